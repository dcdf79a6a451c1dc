# libmem-malloc.so: the malloc replacement (lib/malloc.c), for LD_PRELOAD.
#
# It carries its own copy of the library's objects, built for a preloaded
# object: position independent, every symbol hidden (a version script exports
# the allocator's functions only, so a program that links libmem itself keeps
# its own), thread-locals in the initial-exec model (no __tls_get_addr, which
# may allocate, inside malloc), never sanitised (a sanitizer build's CFLAGS
# lose their -fsanitize options here), and bound at load time (-z now: no
# lazy symbol lookup runs inside the allocator).  MEM_FORK_BY_CALLER: the
# library's fork gate registers no atfork handlers of its own; malloc.c's
# call it, in the order its live lock needs.  (LIB_SRC is set by
# lib/module.mk, read after this file: hence the deferred expansions.)

MALLOC_SO   := $(OUT)/lib/libmem-malloc.so
MALLOC_OBJ   = $(LIB_SRC:%.c=$(B)/preload/%.o) $(B)/preload/lib/malloc.o
PRODUCTS    += $(MALLOC_SO)
CLEAN_FILES += lib/libmem-malloc.so

MALLOC_CFLAGS = $(WARN) -D_GNU_SOURCE -DMEM_FORK_BY_CALLER -Ilib -MMD -MP \
                $(filter-out -fsanitize%,$(CFLAGS)) \
                -fPIC -fvisibility=hidden -ftls-model=initial-exec \
                -fno-builtin-malloc -fno-builtin-calloc -fno-builtin-realloc -fno-builtin-free

$(B)/preload/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(MALLOC_CFLAGS) -c $< -o $@

$(MALLOC_SO): $$(MALLOC_OBJ) lib/malloc.map
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-z,now -Wl,-z,relro -Wl,--version-script=lib/malloc.map \
	      -o $@ $(MALLOC_OBJ) -lpthread

install:: $(MALLOC_SO)
	install -d $(DESTDIR)$(PREFIX)/lib
	install -m 755 $(MALLOC_SO) $(DESTDIR)$(PREFIX)/lib/libmem-malloc.so

uninstall::
	rm -f $(DESTDIR)$(PREFIX)/lib/libmem-malloc.so
