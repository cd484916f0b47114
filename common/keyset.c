/* Placeholder: the shared key-set region is being written. */
#include "common/keyset.h"
