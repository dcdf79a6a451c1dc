/*
 * seg.c - the cold part of MEM_FAST's segregated lists (seg.h): the class of
 * a size, as the checker and the walks name it.
 */
#include "seg.h"

MEM_NO_ASAN void mem_fast_mapping(uint32_t size, unsigned *fl, unsigned *sl)
{
    unsigned c = fast_class(size);
    *fl = c / SL_COUNT;
    *sl = c % SL_COUNT;
}
