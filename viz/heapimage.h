/*
 * heapimage.h - a heap's whole state as bytes, saved and put back in place.
 *
 * libmem has no public call that copies a heap, so heapviz copies the
 * region it mapped for the heap: the control block at its start and the
 * arena after it.  That is a complete and valid image because the heap is
 * position independent (the arena holds offsets, never pointers) and it is
 * only ever put back into the same region, where the control block's few
 * process-local pointers (the arena base, the bitmap levels, the observer)
 * are right as they are.  The lock is free between operations.
 *
 * These three functions are the only place that knows this: when libmem
 * gains a public clone (say MemHeap_CopyTo(dst, size, src) that also
 * rebases the pointers and re-poisons under AddressSanitizer), they are
 * what changes.
 */
#ifndef VIZ_HEAPIMAGE_H
#define VIZ_HEAPIMAGE_H

#include "model.h"

#include <stddef.h>

/* Bytes an image of lane l's heap takes. */
size_t HeapImage_Size(const Lane *l);
/* Copies the heap into dst (HeapImage_Size bytes). */
void HeapImage_Save(const Lane *l, void *dst);
/* Puts an image saved from the same lane back.  Under AddressSanitizer the
 * arena is poisoned again as the library keeps it: all of it but the live
 * objects (found through MemHeap_Walk). */
void HeapImage_Load(Lane *l, const void *src);

#endif
