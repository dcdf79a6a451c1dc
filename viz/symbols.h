/*
 * symbols.h - names for a running program's code addresses (symbols.c):
 * "function (file.c:123)" through elfutils' libdw when libdw.so.1 (Debian's
 * libdw1) can be opened, else "module+0xoffset".  For allocation sites in live
 * mode.  No curses here.
 */
#ifndef VIZ_SYMBOLS_H
#define VIZ_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYMBOLS_CACHE 4096u
#define SYMBOL_TEXT 112

typedef struct SymbolEntry {
    uint64_t addr;          /* 0: empty */
    char text[SYMBOL_TEXT];
} SymbolEntry;

typedef struct Symbols Symbols;

/* For process pid (its modules are read at the first question).  NULL when
 * out of memory. */
Symbols *Symbols_Open(long pid);
void Symbols_Close(Symbols *s);

/* Whether libdw.so.1 was found (and HEAPVIZ_NO_LIBDW is not set). */
bool Symbols_HaveLibdw(void);

/* The name of return address addr (the call before it): a cached answer,
 * else asked now (while the process lives), else "0x...".  NULL for 0. */
const char *Symbols_Name(Symbols *s, uint64_t addr);

#endif
