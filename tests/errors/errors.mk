# tests/errors/errors.mk — docs/errors.md's bad-input table, walked row by
# row by tests/errors/errors.c (its machine-readable twin): the two cannot
# drift apart, and every row is exercised on the entry points it names.
ERRORS_OUT := $(B)/tests/errors

$(ERRORS_OUT)/errors: tests/errors/errors.c $(STLIB) $(HEADER)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $< $(STLIB) -lm -o $@

.PHONY: check-errors
check-errors: $(ERRORS_OUT)/errors
	@./$(ERRORS_OUT)/errors docs/errors.md

CHECK_TARGETS += check-errors
