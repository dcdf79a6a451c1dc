# heapviz: the live ncurses heap map.  Model, layout and composition are
# pure C (VIZ_CORE_OBJ, no curses: tests and benchmarks link them); only
# render.c includes curses.  `make run` builds heapviz and opens its demo.

VIZ_CORE_SRC := viz/options.c viz/explain.c viz/model.c viz/theme.c viz/bar.c \
                viz/frame.c viz/screen.c viz/app.c viz/lecture.c \
                viz/history.c viz/heapimage.c viz/travel.c \
                viz/export.c viz/handout.c viz/predict.c \
                viz/freelist.c viz/compare.c viz/levels.c \
                viz/live.c viz/symbols.c
VIZ_CORE_OBJ := $(VIZ_CORE_SRC:%.c=$(B)/%.o)
# The map's reference implementation: linked into the tests only.
VIZ_REF_OBJ  := $(B)/viz/bar_ref.o
VIZ_TERM_OBJ := $(B)/viz/render.o $(B)/viz/main.o
HEAPVIZ      := $(OUT)/heapviz
PRODUCTS     += $(HEAPVIZ)
CLEAN_FILES  += heapviz

# Like demo/, viz/ is on every include path: tests and the benchmark
# harness include "app.h", "bar.h", "model.h" as they are.
$(VIZ_TERM_OBJ): LOCAL_CFLAGS += $(NCURSES_CFLAGS)

$(HEAPVIZ): $(VIZ_TERM_OBJ) $(VIZ_CORE_OBJ) $(DEMO_OBJ) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -o $@ $(VIZ_TERM_OBJ) $(VIZ_CORE_OBJ) $(DEMO_OBJ) $(LIB_A) \
	      $(NCURSES_LIBS) $(LDLIBS_ALL)

.PHONY: viz run
viz: $(HEAPVIZ)

# A fresh machine gets its missing packages first; the build is a second make
# so that pkg-config is asked after they are installed.  The malloc
# replacement is built too: `heapviz -- CMD` (README) needs it next to heapviz.
run: deps
	@$(MAKE) --no-print-directory $(HEAPVIZ) $(MALLOC_SO)
	$(HEAPVIZ)

# Tests of the pure parts link the core objects and the demo module.
TEST_DEPS_test_layout := $(VIZ_CORE_OBJ) $(VIZ_REF_OBJ) $(DEMO_OBJ)
TEST_DEPS_test_viz_text := $(VIZ_CORE_OBJ) $(DEMO_OBJ)
TEST_DEPS_test_viz_keys := $(VIZ_CORE_OBJ) $(DEMO_OBJ)
TEST_DEPS_test_levels := $(VIZ_CORE_OBJ) $(VIZ_REF_OBJ) $(DEMO_OBJ)
TEST_DEPS_test_viz_screen := $(VIZ_CORE_OBJ) $(DEMO_OBJ)
TEST_DEPS_test_viz_theme := $(VIZ_CORE_OBJ) $(DEMO_OBJ)

# `make install` also installs heapviz and its man page.
install:: $(HEAPVIZ)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(HEAPVIZ) $(DESTDIR)$(PREFIX)/bin/heapviz
	install -m 644 man/heapviz.1 $(DESTDIR)$(PREFIX)/share/man/man1/heapviz.1

uninstall::
	rm -f $(DESTDIR)$(PREFIX)/bin/heapviz $(DESTDIR)$(PREFIX)/share/man/man1/heapviz.1
TEST_DEPS_test_history := $(VIZ_CORE_OBJ) $(DEMO_OBJ)
TEST_DEPS_test_lecture := $(VIZ_CORE_OBJ) $(DEMO_OBJ)
# test_export reads the rendered PNG back with libpng.
TEST_DEPS_test_export := $(VIZ_CORE_OBJ) $(DEMO_OBJ)
TEST_LDFLAGS_test_export := $(shell pkg-config --libs libpng 2>/dev/null || echo -lpng)
$(B)/tests/test_export.o: LOCAL_CFLAGS += $(shell pkg-config --cflags libpng 2>/dev/null)
