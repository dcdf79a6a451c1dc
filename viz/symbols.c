/*
 * symbols.c - names for code addresses of a running program: "function
 * (file.c:123)" from its debug information through elfutils' libdw (the
 * Dwfl interface over /proc/PID/maps), or "module+0xoffset" without it.
 * Answers are cached: a program that has exited can no longer be asked.
 */
#include "symbols.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* libdw is opened at run time (dlopen "libdw.so.1", Debian's libdw1):
 * heapviz builds and runs without it, naming addresses by module then.  The
 * few Dwfl calls used, declared as libdwfl.h does (opaque handles). */
typedef struct Dwfl Dwfl;
typedef struct Dwfl_Module Dwfl_Module;
typedef struct Dwfl_Line Dwfl_Line;
typedef uint64_t Dwarf_Addr;
typedef struct DwflCallbacks {
    void *find_elf;         /* dwfl_linux_proc_find_elf */
    void *find_debuginfo;   /* dwfl_standard_find_debuginfo */
    void *section_address;
    char **debuginfo_path;
} DwflCallbacks;

typedef struct Dw {
    void *lib;
    Dwfl *(*begin)(const DwflCallbacks *);
    void (*end)(Dwfl *);
    void (*report_begin)(Dwfl *);
    int (*proc_report)(Dwfl *, pid_t);
    int (*report_end)(Dwfl *, void *, void *);
    Dwfl_Module *(*addrmodule)(Dwfl *, Dwarf_Addr);
    const char *(*addrname)(Dwfl_Module *, Dwarf_Addr);
    Dwfl_Line *(*getsrc)(Dwfl_Module *, Dwarf_Addr);
    const char *(*lineinfo)(Dwfl_Line *, Dwarf_Addr *, int *, int *, uint64_t *, uint64_t *);
    const char *(*module_info)(Dwfl_Module *, void ***, Dwarf_Addr *, Dwarf_Addr *,
                               Dwarf_Addr *, Dwarf_Addr *, const char **, const char **);
    void *find_elf, *find_debuginfo;
} Dw;

static Dw dw;
static int dw_state; /* 0: not tried, 1: loaded, -1: not there */

#define DW_SYM(field, name)                                                                \
    do {                                                                                   \
        void *p_ = dlsym(dw.lib, name);                                                    \
        if (!p_)                                                                           \
            return false;                                                                  \
        memcpy(&dw.field, &p_, sizeof p_);                                                 \
    } while (0)

static bool dw_bind(void)
{
    DW_SYM(begin, "dwfl_begin");
    DW_SYM(end, "dwfl_end");
    DW_SYM(report_begin, "dwfl_report_begin");
    DW_SYM(proc_report, "dwfl_linux_proc_report");
    DW_SYM(report_end, "dwfl_report_end");
    DW_SYM(addrmodule, "dwfl_addrmodule");
    DW_SYM(addrname, "dwfl_module_addrname");
    DW_SYM(getsrc, "dwfl_module_getsrc");
    DW_SYM(lineinfo, "dwfl_lineinfo");
    DW_SYM(module_info, "dwfl_module_info");
    dw.find_elf = dlsym(dw.lib, "dwfl_linux_proc_find_elf");
    dw.find_debuginfo = dlsym(dw.lib, "dwfl_standard_find_debuginfo");
    return dw.find_elf && dw.find_debuginfo;
}

static bool dw_load(void)
{
    if (dw_state == 0) {
        const char *off = getenv("HEAPVIZ_NO_LIBDW");
        dw.lib = off && *off ? NULL : dlopen("libdw.so.1", RTLD_NOW | RTLD_LOCAL);
        dw_state = dw.lib && dw_bind() ? 1 : -1;
    }
    return dw_state == 1;
}

bool Symbols_HaveLibdw(void)
{
    return dw_load();
}

struct Symbols {
    long pid;
    Dwfl *dwfl;
    DwflCallbacks cb;
    char *debuginfo_path;
    unsigned reports;          /* how often the module list was read */
    SymbolEntry cache[SYMBOLS_CACHE];
};

Symbols *Symbols_Open(long pid)
{
    Symbols *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->pid = pid;
    return s;
}

void Symbols_Close(Symbols *s)
{
    if (!s)
        return;
    if (s->dwfl)
        dw.end(s->dwfl);
    free(s);
}

/* (Re)reads the program's modules: at the first question, and again when an
 * address is in none of them (a library loaded since), a few times. */
static bool report(Symbols *s)
{
    if (s->reports >= 8)
        return s->dwfl != NULL;
    s->reports++;
    if (s->dwfl)
        dw.end(s->dwfl);
    s->cb.find_elf = dw.find_elf;
    s->cb.find_debuginfo = dw.find_debuginfo;
    s->cb.debuginfo_path = &s->debuginfo_path;
    s->dwfl = dw.begin(&s->cb);
    if (!s->dwfl)
        return false;
    dw.report_begin(s->dwfl);
    if (dw.proc_report(s->dwfl, (pid_t)s->pid) != 0) {
        dw.end(s->dwfl);
        s->dwfl = NULL;
        return false;
    }
    dw.report_end(s->dwfl, NULL, NULL);
    return true;
}

/* Through libdw: "function (file:line)", or "function", or module+offset. */
static bool resolve_dw(Symbols *s, uint64_t addr, char *out, size_t len)
{
    if (!s->dwfl && !report(s))
        return false;
    /* a return address: the call is the byte before it */
    Dwarf_Addr pc = (Dwarf_Addr)addr - 1u;
    Dwfl_Module *mod = dw.addrmodule(s->dwfl, pc);
    if (!mod && (!report(s) || !(mod = dw.addrmodule(s->dwfl, pc))))
        return false;
    const char *fn = dw.addrname(mod, pc);
    Dwfl_Line *line = dw.getsrc(mod, pc);
    int lineno = 0;
    const char *file = line ? dw.lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
    const char *base = file ? strrchr(file, '/') : NULL;
    if (fn && file) {
        snprintf(out, len, "%s (%s:%d)", fn, base ? base + 1 : file, lineno);
    } else if (fn) {
        snprintf(out, len, "%s", fn);
    } else {
        Dwarf_Addr start = 0;
        const char *m = dw.module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
        const char *mb = m ? strrchr(m, '/') : NULL;
        snprintf(out, len, "%s+0x%llx", mb ? mb + 1 : m ? m : "?",
                 (unsigned long long)(pc - start));
    }
    return true;
}

/* Without libdw: the module and the offset in it, from /proc/PID/maps. */
static bool resolve_maps(Symbols *s, uint64_t addr, char *out, size_t len)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%ld/maps", s->pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long long lo, hi, off;
        char name[400] = "";
        if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %399[^\n]", &lo, &hi, &off, name) < 3)
            continue;
        if (addr - 1u < lo || addr - 1u >= hi)
            continue;
        const char *b = strrchr(name, '/');
        snprintf(out, len, "%s+0x%llx", b ? b + 1 : name[0] ? name : "?",
                 (unsigned long long)(addr - 1u - lo + off));
        found = true;
    }
    fclose(f);
    return found;
}

static bool resolve(Symbols *s, uint64_t addr, char *out, size_t len)
{
    return (dw_load() && resolve_dw(s, addr, out, len)) || resolve_maps(s, addr, out, len);
}

const char *Symbols_Name(Symbols *s, uint64_t addr)
{
    if (!s || !addr)
        return NULL;
    uint64_t h = addr * 0x9E3779B97F4A7C15u;
    for (unsigned i = 0; i < 8; i++) {
        SymbolEntry *e = &s->cache[((h >> 40) + i) % SYMBOLS_CACHE];
        if (e->addr == addr)
            return e->text[0] ? e->text : NULL;
        if (e->addr == 0) {
            e->addr = addr;
            if (!resolve(s, addr, e->text, sizeof e->text))
                snprintf(e->text, sizeof e->text, "0x%llx", (unsigned long long)addr);
            return e->text;
        }
    }
    /* a full neighbourhood: answer without keeping it */
    static char once[SYMBOL_TEXT];
    if (!resolve(s, addr, once, sizeof once))
        snprintf(once, sizeof once, "0x%llx", (unsigned long long)addr);
    return once;
}
