/*
 * compare.c - per-heap details and charts in compare mode (see compare.h).
 *
 *   ▶ first fit  ext 12.3%  util 40.1%  free 4.5 KiB in 7 ...   ext ▁▁▂▃▃▅▆
 *   ...maps...
 *   selected in first fit: +0x198 used · 112 B block · object 100 B at ...
 *                best fit: +0x180 free · 320 B block · 2nd of 5 in the free list
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
    return (int)nl;
}

/* What lane l keeps at byte `sel`, on one line from x: the block (or the
 * run's piece) there and where it stands. */
static void place_line(Frame *f, Lane *l, size_t sel, int y, int x, int w)
{
    Lane_Sync(l);
    const Snapshot *s = &l->snap;
    long bi = Snapshot_BlockAt(s, sel);
    if (bi < 0) {
        Frame_Printf(f, y, x, w, S_DIM, "+0x%zx is in the heap's own tables", sel);
        return;
    }
    MemBlock b = Snapshot_Block(s, (size_t)bi);
    char b1[32], b2[32], o[32];
    const SnapRun *run = b.run ? Snapshot_RunAt(s, b.offset) : NULL;
    const SnapBlock *p = &s->blocks[bi];
    if (run && Snap_IsSlot(p)) {
        unsigned k = (unsigned)((b.offset - run->slot_offset) / run->slot_size);
        int n = Frame_Printf(f, y, x, w, b.used ? S_LOG_ALLOC : S_LOG_FREE, "+0x%zx %s", b.offset,
                             b.used ? "slot" : "free slot");
        if (b.used)
            Frame_Printf(f, y, x + n, w - n, S_VALUE,
                         " %u of the %s run at +0x%x · object %s · %zu B unused", k,
                         Explain_Bytes(run->slot_size, b1, sizeof b1), run->offset,
                         Explain_Exact(b.object, b2, sizeof b2), b.padding);
        else
            Frame_Printf(f, y, x + n, w - n, S_VALUE,
                         " %u of the %s run at +0x%x · only its class can use it", k,
                         Explain_Bytes(run->slot_size, b1, sizeof b1), run->offset);
        return;
    }
    if (run) {
        int n = Frame_Printf(f, y, x, w, S_RUN, "+0x%x run", run->offset);
        Frame_Printf(f, y, x + n, w - n, S_VALUE, " %s · %s slots, %u of %u live",
                     Snap_IsRunTable(p) ? "table" : "tail, after its last slot",
                     Explain_Bytes(run->slot_size, b1, sizeof b1), run->live, run->slots);
        return;
    }
    int n = Frame_Printf(f, y, x, w, S_VALUE, "+0x%zx ", b.offset);
    n += Frame_Text(f, y, x + n, w - n, b.used ? S_LOG_ALLOC : S_LOG_FREE, b.used ? "used" : "free");
    if (b.used) {
        Frame_Printf(f, y, x + n, w - n, S_VALUE,
                     " · %s block · object %s at +0x%zx · header %zu B · padding %zu B%s",
                     Explain_Bytes(b.size, b1, sizeof b1), Explain_Exact(b.object, b2, sizeof b2),
                     b.offset + b.header, b.header, b.padding,
                     b.overflowed ? " · guard broken" : "");
        return;
    }
    unsigned list = 0;
    long rank = Lane_FreeRank(l, b.offset, &list);
    char place[80] = "";
    if (rank >= 0)
        snprintf(place, sizeof place, " · %s of %zu in the free list%s",
                 Explain_Ordinal((size_t)rank + 1, o, sizeof o), s->stats.free_blocks,
                 l->policy == MEM_FAST ? " (by size class)" : "");
    Frame_Printf(f, y, x + n, w - n, S_VALUE, " · %s block%s", Explain_Bytes(b.size, b1, sizeof b1),
                 place);
}

void Compare_Details(Ui *ui, Frame *f, int y, int rows)
{
    Model *m = ui->m;
    unsigned focus = ui->lane < m->nlanes ? ui->lane : 0;
    int x = 1, w = f->cols - 2;
    if (rows < 1)
        return;
    /* the focused heap's, then what every other heap keeps at that place */
    int n = Frame_Printf(f, y, x, w, S_HEAD, "selected in %s: ",
                         Explain_Policy(m->lanes[focus].policy));
    place_line(f, &m->lanes[focus], ui->sel, y++, x + n, w - n);
    for (unsigned i = 0; i < m->nlanes && rows > 1; i++) {
        if (i == focus)
            continue;
        char name[32];
        snprintf(name, sizeof name, "%s: ", Explain_Policy(m->lanes[i].policy));
        int k = Frame_Printf(f, y, x, w, S_HEAD, "%*s", n, name);
        place_line(f, &m->lanes[i], ui->sel, y++, x + k, w - k);
        rows--;
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
