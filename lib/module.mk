# libmem: a static and a shared library from the same position-independent
# objects, built with hidden visibility so only the mem.h API is exported.

LIB_SRC  := lib/block.c lib/list.c lib/seg.c lib/runs.c lib/buddy.c lib/heap.c lib/resize.c \
            lib/view.c lib/hooks.c lib/plan.c lib/create.c lib/secret.c lib/lock.c lib/check.c \
            lib/facade.c
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
LIB_A    := $(OUT)/lib/libmem.a
LIB_SO   := $(OUT)/lib/libmem.so
PRODUCTS += $(LIB_A) $(LIB_SO)
CLEAN_FILES += lib/libmem.a lib/libmem.so lib/mem.pc

$(LIB_OBJ): LOCAL_CFLAGS += -fPIC -fvisibility=hidden -DMEM_BUILDING_LIBRARY

$(LIB_A): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(LIB_SO): $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-soname,libmem.so.1 -o $@ $^ -lpthread $(LDLIBS_ALL)

lib/mem.pc: lib/mem.pc.in
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|1.0.0|g' $< > $@

install:: $(LIB_A) $(LIB_SO) lib/mem.pc
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	           $(DESTDIR)$(PREFIX)/share/man/man3
	install -m 644 lib/mem.h $(DESTDIR)$(PREFIX)/include/mem.h
	install -m 644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/libmem.a
	install -m 755 $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/libmem.so.1
	ln -sf libmem.so.1 $(DESTDIR)$(PREFIX)/lib/libmem.so
	install -m 644 lib/mem.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/mem.pc
	install -m 644 man/mem.3 $(DESTDIR)$(PREFIX)/share/man/man3/mem.3

uninstall::
	rm -f $(DESTDIR)$(PREFIX)/include/mem.h $(DESTDIR)$(PREFIX)/lib/libmem.a \
	      $(DESTDIR)$(PREFIX)/lib/libmem.so $(DESTDIR)$(PREFIX)/lib/libmem.so.1 \
	      $(DESTDIR)$(PREFIX)/lib/pkgconfig/mem.pc $(DESTDIR)$(PREFIX)/share/man/man3/mem.3
