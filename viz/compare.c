/*
 * compare.c - per-heap details and charts in compare mode (see compare.h).
 *
 *   ▶ first fit  ext 12.3%  util 40.1%  free 4.5 KiB in 7 ...   ext ▁▁▂▃▃▅▆
 *   ...maps...
 *   selected +0x1a0, in every heap
 *   first  used · 112 B block at +0x198 · object 100 B · padding 4 B
 *   best   free · 320 B block at +0x180 · 2nd of 5 in the free list
 */
#include "compare.h"

#include "explain.h"

#include <stdio.h>

#define SPARK_MIN 8

int Compare_DetailRows(const Ui *ui, int avail)
{
    unsigned nl = ui->m->nlanes;
    if (nl < 2 || ui->sel == SIZE_MAX || avail < (int)nl * 6 + 1)
        return 0;
    return (int)nl + 1;
}

static const char *ordinal(size_t n, char *buf, size_t len)
{
    const char *suf = n % 100 / 10 == 1 ? "th" : n % 10 == 1 ? "st" : n % 10 == 2 ? "nd"
                                               : n % 10 == 3 ? "rd" : "th";
    snprintf(buf, len, "%zu%s", n, suf);
    return buf;
}

void Compare_Details(Ui *ui, Frame *f, int y, int rows)
{
    Model *m = ui->m;
    if (rows < 2)
        return;
    Frame_Printf(f, y++, 1, f->cols - 2, S_HEAD, "selected +0x%zx, in every heap", ui->sel);
    for (unsigned i = 0; i < m->nlanes && i + 1 < (unsigned)rows; i++, y++) {
        Lane *l = &m->lanes[i];
        Lane_Sync(l);
        int x = 1, w = f->cols - 1;
        x += Frame_Printf(f, y, x, w - x, i == ui->lane ? S_KEY : S_HEAD, "%-7s",
                          MemPolicy_Name(l->policy));
        long bi = Snapshot_BlockAt(&l->snap, ui->sel);
        if (bi < 0) {
            Frame_Text(f, y, x, w - x, S_DIM, "the heap's own tables");
            continue;
        }
        MemBlock b = Snapshot_Block(&l->snap, (size_t)bi);
        x += Frame_Text(f, y, x, w - x, b.used ? S_LOG_ALLOC : S_LOG_FREE, b.used ? "used" : "free");
        x += Frame_Printf(f, y, x, w - x, S_VALUE, " · %zu B block at +0x%zx", b.size, b.offset);
        if (b.used) {
            Frame_Printf(f, y, x, w - x, S_LABEL, " · object %zu B · padding %zu B%s", b.object,
                         b.padding, b.overflowed ? " · guard broken" : "");
        } else {
            unsigned list = 0;
            long rank = Lane_FreeRank(l, b.offset, &list);
            char o[24];
            if (rank >= 0)
                Frame_Printf(f, y, x, w - x, S_LABEL, " · %s of %zu in the free list%s",
                             ordinal((size_t)rank + 1, o, sizeof o), l->snap.stats.free_blocks,
                             l->policy == MEM_FAST ? " (by size class)" : "");
        }
    }
}

void Compare_Spark(const Lane *l, Frame *f, int y, int x, int w)
{
    w -= 6; /* "  ext " */
    if (w < SPARK_MIN)
        return;
    if (w > 40)
        w = 40;
    x += Frame_Text(f, y, x, 6, S_HIST_EXT, "  ext ");
    size_t have = l->hist_count < HIST_CAP ? l->hist_count : HIST_CAP;
    size_t per = 1;
    while (per * (size_t)w < have)
        per *= 2;
    Screen_Chart(f, l, false, y, x, w, 1, per);
}
