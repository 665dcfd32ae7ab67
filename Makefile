# sensorgram - the build.
#
#   make                 build ./sensorgram (with Debian's libtorch); every
#                        target builds on JOBS cores (default: nproc) unless
#                        -jN is given (make -j1: one at a time)
#   make NO_TORCH=1      encoding half only (no libtorch needed)
#   make LIBTORCH=/path  build against another libtorch (e.g. a CUDA one:
#                        the torch package folder with include/ and lib/)
#                        libtorch builds also make libsensorgram_torch.so,
#                        loaded by the binary on its first model call
#   make install         PREFIX/bin/sensorgram + PREFIX/lib/sensorgram/
#   make test            check the layout, build everything under ASan+UBSan
#                        and run every test: both tiers, one summary line
#   make test-unit       the unit tier: library-level test programs (no binary)
#   make test-bin        the binary tier: the tests that run ./sensorgram
#   make test TESTS='encoders pth'
#                        only the programs whose name contains a word
#                        (test-unit, test-bin too; tests/run.sh -k likewise)
#   make check-layout    the include/print rules between folders
#   make check-docs      every relative link in README.md, ARCHITECTURE.md, docs/
#   make docs-options    regenerate docs/options.md from the option registry
#   make bench           full-size benchmarks on ../shared/data
#   make deps            install the Debian packages the project needs
#   make data            prepare data/dsa (from ../shared or the UCI archive)
#   make fuzz            run the libFuzzer targets (tools/fuzz.sh): CSV, unpickler, .pth,
#                        checkpoints, PNG, JPEG, encoder fit, manifest
#   make demo            the README's main job on the default dataset

BUILD    ?= build
SHARED   ?= ../shared
PYTHON   ?= /usr/bin/python3
NO_TORCH ?=
LIBTORCH ?=
SAN      ?=
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
CC       ?= gcc
CXX      ?= g++
ifeq ($(CC),cc)
CC := gcc
endif

# Parallel by default: -j$(JOBS) in the make started by hand.  A -j on the
# command line still wins (make -j1, make -j8; checked with GNU Make 4.3),
# one in the environment's MAKEFLAGS would not: hence the look at it.
# Sub-makes (MAKELEVEL 1 and up: the test targets' $(MAKE)) add nothing:
# they share the first make's jobserver, where a -j of their own would
# start a second one.
ifeq ($(MAKELEVEL),0)
ifeq ($(filter -j% j% --jobs%,$(shell printenv MAKEFLAGS)),)
MAKEFLAGS += -j$(JOBS)
endif
endif
# Goals named together run in parallel too: `make clean all` would delete
# what it builds, `make test-unit test-bin` would build build/test twice
# at once.  Such a command line runs its goals one after the other
# (the test targets' sub-makes still build in parallel).
ifneq ($(filter clean test%,$(MAKECMDGOALS)),)
ifneq ($(word 2,$(MAKECMDGOALS)),)
.NOTPARALLEL:
endif
endif

# The libraries' flags come from pkg-config, unless given explicitly
# (make PKG_CFLAGS=... PKG_LIBS=..., or in the environment): a machine
# without pkg-config, or with the libraries unpacked somewhere else
# (tools/gpu_carry.sh's .carry/env.sh sets both).
PKGS       := libpng libdeflate fftw3f libturbojpeg cairo jansson nettle libzip libcurl
PKG_CFLAGS ?= $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   ?= $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ifeq ($(strip $(PKG_LIBS)),)
PKG_LIBS   := -lpng16 -ldeflate -lfftw3f -lturbojpeg -lcairo -ljansson -lnettle -lzip -lcurl -lz
endif

# One include root, the top of the checkout: every include names its
# folder ("src/base/sg_error.h", "encoders/enc.h"), so a reader sees which
# layer a file depends on and `make check-layout` can check it.
INCLUDES := -I.
OPT      ?= -O2
WARN     := -Wall -Wextra -Werror -Wno-error=deprecated-declarations -Wno-format-truncation
CFLAGS   := -std=c11 -D_GNU_SOURCE $(OPT) -g $(WARN) -pthread $(INCLUDES) $(PKG_CFLAGS)
CXXFLAGS := -std=c++17 $(OPT) -g -Wall -Wextra -Werror -Wno-unused-parameter \
            -Wno-error=deprecated-declarations -pthread $(INCLUDES)
LDLIBS   := $(PKG_LIBS) -lcsv -lm -pthread

ifneq ($(SAN),)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
CFLAGS   += $(SANFLAGS)
CXXFLAGS += $(SANFLAGS)
LDFLAGS  += $(SANFLAGS)
endif

# --- libtorch -------------------------------------------------------------
ifeq ($(NO_TORCH),)
ifeq ($(LIBTORCH),)
  # Debian's libtorch-dev
  TORCH_CXXFLAGS := -isystem /usr/include/torch/csrc/api/include
  TORCH_LIBS     := -ltorch -ltorch_cpu -lc10
else
  # A libtorch folder (or the torch Python package folder).  Match its C++
  # ABI flag, which older CUDA wheels build with _GLIBCXX_USE_CXX11_ABI=0.
  TORCH_ABI := $(shell grep -ho '_GLIBCXX_USE_CXX11_ABI=[01]' \
                 $(LIBTORCH)/share/cmake/Torch/TorchConfig.cmake 2>/dev/null | head -n 1)
  TORCH_CXXFLAGS := -isystem $(LIBTORCH)/include \
                    -isystem $(LIBTORCH)/include/torch/csrc/api/include \
                    $(if $(TORCH_ABI),-D$(TORCH_ABI))
  TORCH_CUDA_LIBS := $(if $(wildcard $(LIBTORCH)/lib/libtorch_cuda.so),-ltorch_cuda -lc10_cuda)
  # CUDA graphs (models/cuda_graph.cpp) need the CUDA runtime headers that
  # ATen's CUDA headers include: CUDA_INCLUDE, or found next to the torch
  # package (the nvidia-cuda-runtime wheel) or in /usr/local/cuda.
  CUDA_INCLUDE ?= $(firstword $(patsubst %/cuda_runtime_api.h,%,$(wildcard \
                    $(LIBTORCH)/../nvidia/cu*/include/cuda_runtime_api.h \
                    $(LIBTORCH)/../nvidia/cuda_runtime/include/cuda_runtime_api.h \
                    /usr/local/cuda/include/cuda_runtime_api.h)))
  ifneq ($(and $(TORCH_CUDA_LIBS),$(CUDA_INCLUDE)),)
    TORCH_CXXFLAGS += -DSG_TORCH_CUDA=1 -isystem $(CUDA_INCLUDE)
    # NCCL process groups (models/dist_*.cpp): a CUDA libtorch whose headers
    # have ProcessGroupNCCL.hpp, and nccl.h (NCCL_INCLUDE, or the
    # nvidia-nccl wheel next to the torch package, or the system's).
    # Debian's libtorch-dev ships that header without the library behind
    # it, so this is only looked for with LIBTORCH.
    NCCL_INCLUDE ?= $(firstword $(patsubst %/nccl.h,%,$(wildcard \
                      $(LIBTORCH)/../nvidia/nccl/include/nccl.h $(CUDA_INCLUDE)/nccl.h \
                      /usr/include/nccl.h)))
    ifneq ($(and $(wildcard $(LIBTORCH)/include/torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp),$(NCCL_INCLUDE)),)
      TORCH_CXXFLAGS += -DSG_HAVE_NCCL=1 -DUSE_C10D_NCCL=1 -isystem $(NCCL_INCLUDE)
    endif
  endif
  TORCH_LIBS := -L$(LIBTORCH)/lib -Wl,-rpath,$(LIBTORCH)/lib \
                -Wl,--no-as-needed -ltorch $(TORCH_CUDA_LIBS) -ltorch_cpu -lc10 -Wl,--as-needed
endif
# libtorch is not linked into the binary: models/*.cpp become
# libsensorgram_torch.so, loaded with dlopen() on the first model call
# (models/torch_loader.c), so that commands without a model do not pay
# for loading libtorch.  The binary exports sg_fail to it
# (models/torch_host.syms).
CXXFLAGS  += $(TORCH_CXXFLAGS) -fPIC
TORCH_SO  := $(BUILD)/libsensorgram_torch.so
EXE_LDFLAGS := -Wl,--dynamic-list=models/torch_host.syms
LDLIBS    += -ldl
endif
LINK     := $(CC)

# --- sources ----------------------------------------------------------------
SRC_DIRS := src/base src/image encoders datasets models src/encode src/train figures src/cli
C_ALL    := $(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.c))
ifeq ($(NO_TORCH),)
C_SRC    := $(filter-out models/model_none.c models/dist_none.c,$(C_ALL))
CXX_SRC  := $(wildcard models/*.cpp)
else
C_SRC    := $(filter-out models/torch_loader.c,$(C_ALL))
CXX_SRC  :=
endif
LIB_SRC  := $(filter-out src/cli/main.c,$(C_SRC))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
# Position-independent objects of the shared library, in their own folder
# so that a build folder holding older non-PIC objects rebuilds them.
SO_OBJ   := $(CXX_SRC:%.cpp=$(BUILD)/pic/%.o)
MAIN_OBJ := $(BUILD)/src/cli/main.o
DEPS     := $(LIB_OBJ:.o=.d) $(SO_OBJ:.o=.d) $(MAIN_OBJ:.o=.d)

TEST_SRC := $(wildcard tests/test_*.c)

# The tests in two tiers, by name (tests/test_NAME.c).  Every tests/test_*.c
# is in exactly one list: test-tiers (run by make test, test-unit and
# test-bin) fails otherwise, so that no new test is left out.
# The unit tier: library-level programs (libsensorgram.a; the model ones
# load libsensorgram_torch.so) that never run ./sensorgram.
TEST_UNIT     := dsa encoders image_folder image_io loader metrics optim parallel png_npy \
                 run_dir safetensors schedule sensor_csv split transform uea_ts npy_series weight_avg
# The binary tier: programs that run ./sensorgram (SG_BIN), if only in some
# of their tests (tests/sg_run.h's sg_test_run, or a command of their own).
TEST_BIN_TIER := avg_ensemble batch_mix cuda_graphs dist encode_cli encode_shard figures \
                 models models_fetch options_doc png_map_cli pth pyts_cli repr_cli \
                 series_augment stack_cli torch_loader train_bad_input train_e2e train_ensemble \
                 series_cli adapt_bn report_html csv_cli explain pretrain
TEST_NAMES    := $(TEST_SRC:tests/test_%.c=%)
TEST_LISTED   := $(TEST_UNIT) $(TEST_BIN_TIER)
# make test TESTS='encoders pth': the names whose test_NAME contains a word
# (tests/run.sh picks the same programs); all of them without TESTS.
test_pick = $(strip $(if $(strip $(TESTS)),$(foreach t,$(1),$(if $(strip \
              $(foreach w,$(TESTS),$(findstring $(w),test_$(t)))),$(t))),$(1)))
TEST_UNIT_PICK := $(call test_pick,$(TEST_UNIT))
TEST_BIN_PICK  := $(call test_pick,$(TEST_BIN_TIER))

.PHONY: all test test-unit test-bin test-tiers test-build test-unit-build test-bin-build check check-layout check-docs docs-options bench deps data fuzz demo clean format install

all: sensorgram

# ./sensorgram and, in a libtorch build, ./libsensorgram_torch.so beside it
# (the binary finds the library next to itself).
ifeq ($(BUILD),build)
sensorgram: $(BUILD)/sensorgram $(if $(TORCH_SO),libsensorgram_torch.so)
	cp $< $@

# its own target: a change to models/*.cpp rebuilds only the library
libsensorgram_torch.so: $(TORCH_SO)
	cp $< $@
else
sensorgram: $(BUILD)/sensorgram
endif

# The library is not linked in, but is built with the binary: every
# target that builds the one builds the other.
$(BUILD)/sensorgram: $(MAIN_OBJ) $(BUILD)/libsensorgram.a | $(TORCH_SO)
	$(LINK) $(LDFLAGS) $(EXE_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libsensorgram.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

ifneq ($(TORCH_SO),)
$(TORCH_SO): $(SO_OBJ)
	$(CXX) $(LDFLAGS) -shared -Wl,-soname,libsensorgram_torch.so -o $@ $^ $(TORCH_LIBS) -pthread

# Test programs and bench drivers live one folder down: a link to the
# library beside them, as an install puts it beside the binary.
$(BUILD)/tests/libsensorgram_torch.so $(BUILD)/tools/libsensorgram_torch.so: | $(TORCH_SO)
	@mkdir -p $(dir $@)
	ln -sf ../libsensorgram_torch.so $@
TORCH_SO_LINKS = $(BUILD)/$(1)/libsensorgram_torch.so
endif

# make install PREFIX=/opt/sensorgram: bin/sensorgram and
# lib/sensorgram/libsensorgram_torch.so, where the binary looks for it.
PREFIX ?= /usr/local
install: $(BUILD)/sensorgram
	install -D -m 755 $(BUILD)/sensorgram $(DESTDIR)$(PREFIX)/bin/sensorgram
ifneq ($(TORCH_SO),)
	install -D -m 644 $(TORCH_SO) $(DESTDIR)$(PREFIX)/lib/sensorgram/libsensorgram_torch.so
endif

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/pic/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/test_%: tests/test_%.c $(wildcard tests/sg_*.h) $(BUILD)/libsensorgram.a \
                       | $(call TORCH_SO_LINKS,tests)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -c -o $@.o $<
	$(LINK) $(LDFLAGS) $(EXE_LDFLAGS) -o $@ $@.o $(BUILD)/libsensorgram.a $(LDLIBS) -lcmocka

# The encoders' O(n^2) image loops need the full vectorizer (-O2's cost
# model skips loops whose trip count is not a multiple of the vector width);
# they never read errno, so sqrt may vectorize too.
$(BUILD)/encoders/%.o: CFLAGS += -O3 -fno-math-errno
# gray's clamps only become vector selects when comparisons may not trap
# (we never enable FP exceptions); results are unchanged.
$(BUILD)/encoders/enc_gray.o: CFLAGS += -fno-trapping-math
# The PNG path's per-pixel loops (min-max scaling in encode_run.c, packing
# to bytes in png_write.c) run over every pixel of every image: same reason.
$(BUILD)/src/encode/encode_run.o $(BUILD)/src/image/png_write.o: CFLAGS += -O3 -fno-math-errno

# tools/bench_*.c: benchmark drivers for `make bench`, linked like the tests
$(BUILD)/tools/bench_%: tools/bench_%.c $(BUILD)/libsensorgram.a | $(call TORCH_SO_LINKS,tools)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@.o $<
	$(LINK) $(LDFLAGS) $(EXE_LDFLAGS) -o $@ $@.o $(BUILD)/libsensorgram.a $(LDLIBS)

.PHONY: bench-encoders bench-train
bench-encoders: $(BUILD)/tools/bench_encoders
bench-train: $(BUILD)/tools/bench_train

-include $(DEPS)

# The README's test command.  Tests run under AddressSanitizer and UBSan
# in their own build folder; the Python oracles (Debian's python3-torch,
# python3-torchvision, python3-numpy) are found through $(PYTHON).
# The sub-makes take their -j from this make (see MAKEFLAGS above).
TEST_RUN = SG_BIN=build/test/sensorgram SG_SHARED=$(SHARED) SG_PYTHON=$(PYTHON) \
           NO_TORCH=$(NO_TORCH) TESTS='$(TESTS)' tests/run.sh
test: test-tiers check-layout check-docs
	$(MAKE) BUILD=build/test SAN=1 test-build
	$(TEST_RUN) $(TEST_UNIT:%=build/test/tests/test_%) $(TEST_BIN_TIER:%=build/test/tests/test_%)

# The unit tier needs no binary: the library and its programs only.
test-unit: test-tiers
	$(MAKE) BUILD=build/test SAN=1 test-unit-build
	$(TEST_RUN) $(TEST_UNIT:%=build/test/tests/test_%)

test-bin: test-tiers
	$(MAKE) BUILD=build/test SAN=1 test-bin-build
	$(TEST_RUN) $(TEST_BIN_TIER:%=build/test/tests/test_%)

test-build: test-unit-build test-bin-build
test-unit-build: $(TEST_UNIT_PICK:%=$(BUILD)/tests/test_%)
test-bin-build: $(if $(TEST_BIN_PICK),$(BUILD)/sensorgram) $(TEST_BIN_PICK:%=$(BUILD)/tests/test_%)

TEST_UNTIERED = $(filter-out $(TEST_LISTED),$(TEST_NAMES))
TEST_NO_FILE  = $(filter-out $(TEST_NAMES),$(TEST_LISTED))
TEST_TWICE    = $(strip $(foreach t,$(sort $(TEST_LISTED)),$(if $(word 2,$(filter $(t),$(TEST_LISTED))),$(t))))
test-tiers:
	$(if $(TEST_UNTIERED),$(error tests in no tier: $(TEST_UNTIERED) \
	    (tests/test_NAME.c; add each NAME to TEST_UNIT or TEST_BIN_TIER in the Makefile)))
	$(if $(TEST_NO_FILE),$(error TEST_UNIT or TEST_BIN_TIER names tests without a \
	    tests/test_NAME.c: $(TEST_NO_FILE)))
	$(if $(TEST_TWICE),$(error tests in both TEST_UNIT and TEST_BIN_TIER (or twice \
	    in one): $(TEST_TWICE)))

# The rules between folders (ARCHITECTURE.md), and a self-test that breaks
# each rule in a scratch copy so the check itself cannot pass vacuously.
check-layout:
	tools/check_layout.sh
	tools/check_layout.sh --self-test

# Every relative link and #anchor of README.md, ARCHITECTURE.md and docs/*.md
# resolves; the self-test breaks links in a scratch copy and requires failure.
check-docs:
	tools/check_links.sh
	tools/check_links.sh --self-test

# docs/options.md is the binary's own account of its options (the registry
# in src/cli/cli_rows.c); tests/test_options_doc.c fails when it is stale.
docs-options: $(BUILD)/sensorgram
	$(BUILD)/sensorgram help --markdown > docs/options.md.tmp
	mv docs/options.md.tmp docs/options.md

# tools/bench.sh runs make itself, as a command rather than a sub-make (so
# that make -n bench does not run it): its make gets this one's -j without
# the jobserver it could not reach (and would warn about).
bench: sensorgram
	MAKEFLAGS="$$(echo "$$MAKEFLAGS" | sed 's/ *--jobserver-[a-z]*=[^ ]*//')" \
	    SG_SHARED=$(SHARED) SG_PYTHON=$(PYTHON) tools/bench.sh

deps:
	tools/deps.sh

data:
	tools/data.sh $(SHARED)

fuzz:
	tools/fuzz.sh

demo: sensorgram data
	tools/demo.sh

clean:
	rm -rf build sensorgram libsensorgram_torch.so

format:
	clang-format -i $(C_ALL) $(CXX_SRC) $(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.h)) $(wildcard tests/*.c tests/*.h)
