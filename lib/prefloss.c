/* The compiled library: the implementation lives in the header. */
#define PREFLOSS_IMPLEMENTATION
#include "prefloss.h"
