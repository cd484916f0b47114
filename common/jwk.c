/* Placeholder: JWKS parsing is being written. */
#include "common/jwk.h"
