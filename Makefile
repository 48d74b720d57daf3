# The README's commands. Each target installs what it needs (Debian 12,
# as root or with sudo) and builds before it runs.
BUILD ?= build
ASAN_BUILD ?= build-asan
MESON_TEST_ARGS ?= --print-errorlogs

.PHONY: demo test test-asan deps build build-asan install clean fuzz

demo: build
	./examples/demo.sh $(BUILD)

test: build
	meson test -C $(BUILD) $(MESON_TEST_ARGS)

# The whole suite again under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: build-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  meson test -C $(ASAN_BUILD) $(MESON_TEST_ARGS) --no-suite valgrind

deps:
	./tools/install-deps.sh

build: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) -Dwerror_ci=true
	ninja -C $(BUILD)

build-asan: deps
	@[ -f $(ASAN_BUILD)/build.ninja ] || meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false -Dfault_points=true -Dwerror_ci=true
	ninja -C $(ASAN_BUILD)

install: build
	meson install -C $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) var
