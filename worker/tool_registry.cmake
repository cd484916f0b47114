# Tools: one file each, named after the tool.  The file's name is the tool's
# name and is written nowhere else: each tool file is compiled with
# MCPD_TOOL_NAME=<name> (worker/tool.h's MCPD_TOOL makes tool_<name> of it),
# and the registry the worker reads (tool_files.h, one MCPD_TOOL_FILE(name)
# line per tool) is generated from the file names, so adding a tool is
# adding its file.  <name>_test.c beside a tool is its own test, not a tool.
# The example tools of worker/tools/examples/ (tools that call the outside
# world through the egress process) are built in only when asked: a folder
# of their own, because the glob of worker/tools/ is not recursive.
# Used by the top-level CMakeLists.txt and by tests/fuzz/CMakeLists.txt.
#
#   mcpd_tool_registry(<root> <with test tools> <with example tools> <binary dir> <sources var>)
# sets <sources var> to the tool files and writes
# <binary dir>/generated/tool_files.h.
function(mcpd_tool_registry root with_test_tools with_example_tools binary_dir sources_var)
  file(GLOB sources CONFIGURE_DEPENDS ${root}/worker/tools/*.c)
  if(with_example_tools)
    file(GLOB example_sources CONFIGURE_DEPENDS ${root}/worker/tools/examples/*.c)
    list(APPEND sources ${example_sources})
  endif()
  if(with_test_tools)
    file(GLOB test_sources CONFIGURE_DEPENDS ${root}/tests/tools/*.c)
    list(APPEND sources ${test_sources})
  endif()
  list(FILTER sources EXCLUDE REGEX "_test\\.c$")
  set(registry "/* Generated from the tool files by worker/tool_registry.cmake; do not edit. */\n")
  foreach(source ${sources})
    get_filename_component(name ${source} NAME_WE)
    if(NOT name MATCHES "^[a-z0-9_]+$")
      message(FATAL_ERROR "${source}: a tool file is named after its tool, [a-z0-9_]+.c")
    endif()
    if(name IN_LIST names)
      message(FATAL_ERROR "${source}: two tool files are named ${name}.c")
    endif()
    list(APPEND names ${name})
    string(APPEND registry "MCPD_TOOL_FILE(${name})\n")
    set_property(SOURCE ${source} APPEND PROPERTY COMPILE_DEFINITIONS MCPD_TOOL_NAME=${name})
  endforeach()
  file(CONFIGURE OUTPUT ${binary_dir}/generated/tool_files.h CONTENT "${registry}")
  set(${sources_var} ${sources} PARENT_SCOPE)
endfunction()
