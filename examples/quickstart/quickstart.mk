# The quick start example: built against the static and the shared library
# (the same program, both ways, as zlib's `make test` does).
QS_BIN := $(B)/quickstart-static $(B)/quickstart-shared

$(B)/quickstart-static: examples/quickstart/quickstart.c $(STLIB)
	$(CC) $(ALL_CFLAGS) -Werror $< $(STLIB) -o $@
$(B)/quickstart-shared: examples/quickstart/quickstart.c $(B)/libprefloss.so
	$(CC) $(ALL_CFLAGS) -Werror $< -L$(B) -lprefloss -Wl,-rpath,'$$ORIGIN' -o $@

.PHONY: demo-quickstart check-quickstart
demo-quickstart: $(B)/quickstart-static
	@$(B)/quickstart-static

# Both builds must run and print the same thing.
check-quickstart: $(QS_BIN)
	@$(B)/quickstart-static > $(B)/quickstart-static.out
	@$(B)/quickstart-shared > $(B)/quickstart-shared.out
	@cmp $(B)/quickstart-static.out $(B)/quickstart-shared.out
	@echo "quickstart: static and shared builds agree"
CHECK_TARGETS += check-quickstart
