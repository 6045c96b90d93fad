# examples/bandit — the seed's three-armed bandit experiment, DPO vs IPO
# (docs/bandit.md). Included by the top-level Makefile; paths are relative
# to the repository root. Needs only a C compiler: the example uses
# libprefloss, libc and libm.

BANDIT_SRC := $(wildcard examples/bandit/*.c)
BANDIT_HDR := $(wildcard examples/bandit/*.h)
BANDIT_OUT := $(B)/bandit.csv $(B)/bandit.svg

$(B)/bandit: $(BANDIT_SRC) $(BANDIT_HDR) $(HEADER) $(STLIB) | $(B)
	$(CC) $(ALL_CFLAGS) -o $@ $(BANDIT_SRC) $(STLIB) -lm

DEMO_TARGET := demo-bandit
.PHONY: demo-bandit check-bandit

# make demo: build the library and the example, run it; writes the table to
# stdout and build/bandit.csv, build/bandit.svg.
demo-bandit: $(B)/bandit
	./$(B)/bandit $(BANDIT_OUT)

# The experiment's claims as a test: every population run on its optimum
# (TV < 1e-3), sampled runs close (TV < 0.05), the DPO and IPO optima apart,
# the RESULT lines in their exact format.
check-bandit: $(B)/bandit
	./$(B)/bandit $(BANDIT_OUT) > $(B)/bandit.out
	sh examples/bandit/check.sh $(B)/bandit.out

CHECK_TARGETS += check-bandit
