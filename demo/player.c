/*
 * player.c - applies operations to a heap and checks what comes back.
 *
 * The player holds one slot per id: the object's first byte and the size it
 * was given (a request of 0 bytes is made as 1 byte, since malloc(0) also
 * returns a distinct object).  Every object is filled with a pattern that
 * depends on its id and on the byte's index, so an object that was moved,
 * overlapped by a neighbour, or overwritten by the allocator's metadata no
 * longer matches:
 *
 *   byte i of id's object = key(id) + 37 i + 59 (i / 256)   (mod 256)
 *
 * The second term changes every byte, the third makes a copy shifted by a
 * multiple of 256 bytes differ too.  A realloc copies the old prefix (which
 * the pattern keeps valid) and fills the rest.
 */
#include "workload.h"

#include <stdlib.h>
#include <string.h>

typedef struct Slot {
    unsigned char *ptr;   /* the object's first byte; NULL when empty */
    size_t size;          /* bytes given to the object */
} Slot;

struct Player {
    MemHeap *heap;
    uint32_t max_ids;
    uint32_t live;        /* slots holding objects */
    size_t window;        /* bytes filled at each end of an object, 0: all */
    Slot *slot;
};

/* The bytes of an object of `size` bytes that hold the pattern: [0, a)
 * and [b, size). */
static void windows(const Player *p, size_t size, size_t *a, size_t *b)
{
    if (p->window == 0 || size <= 2 * p->window) {
        *a = *b = size;
        return;
    }
    *a = p->window;
    *b = size - p->window;
}

static unsigned char key(uint32_t id) { return (unsigned char)((id * 0x9E3779B1u) >> 24); }

static unsigned char pattern(unsigned char k, size_t i)
{
    return (unsigned char)(k + 37u * (unsigned)(i & 0xFF) + 59u * (unsigned)((i >> 8) & 0xFF));
}

static void fill_range(unsigned char *p, uint32_t id, size_t from, size_t to)
{
    unsigned char k = key(id);
    for (size_t i = from; i < to; i++)
        p[i] = pattern(k, i);
}

/* Fills the windows of an object of `size` bytes. */
static void fill(const Player *pl, unsigned char *p, uint32_t id, size_t size)
{
    size_t a, b;
    windows(pl, size, &a, &b);
    fill_range(p, id, 0, a);
    fill_range(p, id, b, size);
}

/* The slot's object is still the live object it was (it was not freed
 * behind the player's back) and holds its pattern.  The heap is asked
 * first, so a freed object's bytes are never read. */
static bool intact(const Player *p, const Slot *s, uint32_t id)
{
    size_t size = 0;
    if (MemHeap_Find(p->heap, s->ptr, &size) != s->ptr || size != s->size)
        return false;
    unsigned char k = key(id);
    size_t a, b;
    windows(p, s->size, &a, &b);
    for (size_t i = 0; i < s->size; i = i + 1 == a ? b : i + 1)
        if (s->ptr[i] != pattern(k, i))
            return false;
    return true;
}

/* After a realloc: the new object's windows hold the pattern, and the
 * bytes below `keep` that the old object's windows held are copied. */
static void carry(const Player *p, unsigned char *n, size_t size, const Slot *old, uint32_t id,
                  size_t keep)
{
    fill(p, n, id, size);
    size_t na, nb, oa, ob;
    windows(p, size, &na, &nb);
    windows(p, old->size, &oa, &ob);
    const size_t nr[2][2] = {{0, na}, {nb, size}}, orr[2][2] = {{0, oa}, {ob, old->size}};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            size_t lo = nr[i][0] > orr[j][0] ? nr[i][0] : orr[j][0];
            size_t hi = nr[i][1] < orr[j][1] ? nr[i][1] : orr[j][1];
            if (hi > keep)
                hi = keep;
            if (lo < hi)
                memcpy(n + lo, old->ptr + lo, hi - lo);
        }
}

Player *Player_Create(MemHeap *heap, uint32_t max_ids)
{
    Player *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->slot = calloc(max_ids ? max_ids : 1, sizeof *p->slot);
    if (!p->slot) {
        free(p);
        return NULL;
    }
    p->heap = heap;
    p->max_ids = max_ids;
    return p;
}

/* Frees slot s (through byte `at` of it); the slot is emptied on success. */
static StepResult release(Player *p, Slot *s, uint32_t id, size_t at, void **given)
{
    bool ok = intact(p, s, id);
    unsigned char *ptr = s->ptr + (at < s->size ? at : at % s->size);
    if (given)
        *given = ptr;
    if (MemHeap_Free(p->heap, ptr) != 0)
        return STEP_REJECTED;
    s->ptr = NULL;
    s->size = 0;
    p->live--;
    return ok ? STEP_OK : STEP_CORRUPT;
}

StepResult Player_Apply(Player *p, const Op *op, Step *step)
{
    Step st = {.op = op ? *op : (Op){OP_FREE, 0, 0, 0}, .result = STEP_SKIPPED, .ptr = NULL};
    if (!p || !op || op->id >= p->max_ids) {
        if (step)
            *step = st;
        return STEP_SKIPPED;
    }
    Slot *s = &p->slot[op->id];
    size_t size = op->size ? op->size : 1;
    switch (op->kind) {
    case OP_ALLOC: {
        StepResult old = STEP_OK;
        if (s->ptr) /* a trace may reuse an id without freeing it: free it */
            old = release(p, s, op->id, 0, NULL);
        unsigned char *n = old == STEP_REJECTED ? NULL : MemHeap_Alloc(p->heap, size);
        if (!n) {
            st.result = old == STEP_OK ? STEP_FAILED : old;
            break;
        }
        fill(p, n, op->id, size);
        *s = (Slot){n, size};
        p->live++;
        st.ptr = n;
        st.result = old;
        break;
    }
    case OP_FREE:
        if (s->ptr)
            st.result = release(p, s, op->id, op->at, &st.ptr);
        break;
    case OP_REALLOC: {
        if (!s->ptr)
            break;
        bool ok = intact(p, s, op->id);
        unsigned char *n = MemHeap_Alloc(p->heap, size);
        if (!n) {
            st.result = STEP_FAILED; /* the old object stays, as with realloc */
            break;
        }
        size_t keep = ok ? (s->size < size ? s->size : size) : 0;
        carry(p, n, size, s, op->id, keep);
        int rc = MemHeap_Free(p->heap, s->ptr);
        *s = (Slot){n, size};
        st.ptr = n;
        st.result = rc != 0 ? STEP_REJECTED : ok ? STEP_OK : STEP_CORRUPT;
        break;
    }
    }
    if (step)
        *step = st;
    return st.result;
}

bool Player_IdOf(const Player *p, const void *ptr, uint32_t *id)
{
    if (!p || !ptr)
        return false;
    uintptr_t a = (uintptr_t)ptr;
    for (uint32_t i = 0; i < p->max_ids; i++) {
        const Slot *s = &p->slot[i];
        if (s->ptr && a >= (uintptr_t)s->ptr && a - (uintptr_t)s->ptr < s->size) {
            if (id)
                *id = i;
            return true;
        }
    }
    return false;
}

void Player_SetWindow(Player *p, size_t bytes)
{
    if (p)
        p->window = bytes;
}

void *Player_Object(const Player *p, uint32_t id, size_t *size)
{
    if (!p || id >= p->max_ids || !p->slot[id].ptr)
        return NULL;
    if (size)
        *size = p->slot[id].size;
    return p->slot[id].ptr;
}

void Player_Forget(Player *p, const void *object)
{
    uint32_t id;
    if (!Player_IdOf(p, object, &id))
        return;
    p->slot[id].ptr = NULL;
    p->slot[id].size = 0;
    p->live--;
}

void Player_Reset(Player *p, MemHeap *heap)
{
    if (!p)
        return;
    memset(p->slot, 0, (p->max_ids ? p->max_ids : 1) * sizeof *p->slot);
    p->live = 0;
    p->heap = heap;
}

uint32_t Player_Live(const Player *p) { return p ? p->live : 0; }

void Player_Destroy(Player *p)
{
    if (!p)
        return;
    free(p->slot);
    free(p);
}

/* The state for a checkpoint: the live count, then the slots. */
size_t Player_StateSize(const Player *p)
{
    return p ? sizeof p->live + (p->max_ids ? p->max_ids : 1) * sizeof *p->slot : 0;
}

void Player_SaveState(const Player *p, void *buf)
{
    if (!p || !buf)
        return;
    memcpy(buf, &p->live, sizeof p->live);
    memcpy((unsigned char *)buf + sizeof p->live, p->slot,
           (p->max_ids ? p->max_ids : 1) * sizeof *p->slot);
}

void Player_LoadState(Player *p, const void *buf)
{
    if (!p || !buf)
        return;
    memcpy(&p->live, buf, sizeof p->live);
    memcpy(p->slot, (const unsigned char *)buf + sizeof p->live,
           (p->max_ids ? p->max_ids : 1) * sizeof *p->slot);
}
