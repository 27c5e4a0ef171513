/* The worker memory budget on unix: none (the process's memory is the
 * host's; max_connections bounds the workers). */
#include "http_internal.h"

uint64_t uw__http_memory_budget(void) { return 0; }
