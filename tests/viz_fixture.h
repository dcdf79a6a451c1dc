/* viz_fixture.h - heapviz's model and UI state for the screen tests: an
 * 8 KiB arena per lane, a seeded workload run some steps, no terminal;
 * keys pressed as the live loop presses them; the log searched. */
#ifndef VIZ_FIXTURE_H
#define VIZ_FIXTURE_H

#include "app.h"
#include "model.h"

#include <criterion/criterion.h>
#include <string.h>

/* nlanes > 1: compare mode with the first nlanes policies; else `policy`. */
static inline void viz_start(Model *m, Ui *ui, unsigned nlanes, MemPolicy policy, unsigned flags,
                             WorkloadKind wl, uint64_t seed, int steps, GlyphMode g)
{
    ModelConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.region_size = MemHeap_ControlSize() + 8192;
    cfg.nlanes = nlanes;
    for (unsigned i = 0; i < nlanes; i++)
        cfg.policies[i] = nlanes > 1 ? (MemPolicy)i : policy;
    cfg.flags = flags;
    cfg.workload = wl;
    cfg.seed = seed;
    char err[128];
    cr_assert_eq(Model_Init(m, &cfg, err, sizeof err), 0, "%s", err);
    Ui_Init(ui, m, g, 8, true);
    for (int i = 0; i < steps; i++)
        Model_Step(m);
}

/* A key, the way the live loop dispatches one: compose, then the key. */
static inline unsigned viz_press(Ui *ui, Frame *f, int key)
{
    Screen_Compose(ui, f);
    return App_Key(ui, key);
}

/* Keys of a string, a newline as Enter. */
static inline void viz_type(Ui *ui, Frame *f, const char *s)
{
    for (; *s; s++)
        viz_press(ui, f, *s == '\n' ? VK_ENTER : *s);
}

/* Whether any line of lane l's log holds `needle`. */
static inline bool viz_log_has(const Lane *l, const char *needle)
{
    for (unsigned i = 0; Lane_Log(l, i); i++)
        if (strstr(Lane_Log(l, i)->text, needle))
            return true;
    return false;
}

#endif
