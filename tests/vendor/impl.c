/* The one translation unit that compiles the implementation (stb style). */
#define PREFLOSS_IMPLEMENTATION
#include "prefloss.h"
