# Tools: one file each, named after the tool, defining tool_<name>. The
# registry the worker reads (tool_registry.h, one MCPD_TOOL(name) line per
# tool) is generated from the file names, so adding a tool is adding its
# file; nothing else lists tools. Used by the top-level CMakeLists.txt and by
# the fuzzers' tests/fuzz/CMakeLists.txt.
#
#   mcpd_tool_registry(<root> <with test tools> <binary dir> <sources var>)
# sets <sources var> to the tool files and writes
# <binary dir>/generated/tool_registry.h.
function(mcpd_tool_registry root with_test_tools binary_dir sources_var)
  file(GLOB sources CONFIGURE_DEPENDS ${root}/worker/tools/*.c)
  if(with_test_tools)
    file(GLOB test_sources CONFIGURE_DEPENDS ${root}/tests/tools/*.c)
    list(APPEND sources ${test_sources})
  endif()
  set(registry "/* Generated from the tool files by worker/tool_registry.cmake; do not edit. */\n")
  foreach(source ${sources})
    get_filename_component(name ${source} NAME_WE)
    if(NOT name MATCHES "^[a-z0-9_]+$")
      message(FATAL_ERROR "${source}: a tool file is named after its tool, [a-z0-9_]+.c")
    endif()
    string(APPEND registry "MCPD_TOOL(${name})\n")
  endforeach()
  file(CONFIGURE OUTPUT ${binary_dir}/generated/tool_registry.h CONTENT "${registry}")
  set(${sources_var} ${sources} PARENT_SCOPE)
endfunction()
