# tests/threads/threads.mk — 8 threads calling every entry point at once
# (own outputs, shared read-only inputs) must reproduce the single-thread
# results bit for bit; once normally, once under ThreadSanitizer.
#
#   make check-threads   THREADS_SECONDS (default 3) normal, 2 s under TSan
#
# The TSan build is the default one, run-time dispatch included (its CPU
# feature cache is a relaxed atomic; there is no ifunc resolver to crash).

THREADS_OUT     := $(B)/tests/threads
THREADS_SECONDS ?= 3
TSAN_CC         ?= clang

$(THREADS_OUT)/threads: tests/threads/threads.c $(STLIB) $(HEADER)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -pthread $< $(STLIB) -o $@

$(THREADS_OUT)/threads_tsan: tests/threads/threads.c lib/prefloss.c $(HEADER) | reliability-deps
	@mkdir -p $(@D)
	$(TSAN_CC) -std=c99 -g -O1 -fsanitize=thread -Iinclude -pthread $< lib/prefloss.c -o $@

.PHONY: check-threads
check-threads: $(THREADS_OUT)/threads $(THREADS_OUT)/threads_tsan
	@THREADS_SECONDS=$(THREADS_SECONDS) ./$(THREADS_OUT)/threads
	@THREADS_SECONDS=2 TSAN_OPTIONS=halt_on_error=1:exitcode=66 ./$(THREADS_OUT)/threads_tsan

CHECK_TARGETS += check-threads
