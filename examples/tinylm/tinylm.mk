# examples/tinylm — a tiny language model fine-tuned with DPO from logits
# through prefloss_pair_loss_from_logits (docs/from-logits.md). make
# check-tinylm runs it: its whole-model gradient against finite differences,
# a falling loss and a rising preference accuracy.
$(B)/tinylm: examples/tinylm/tinylm.c $(HEADER) $(STLIB) | $(B)
	$(CC) $(ALL_CFLAGS) -Werror -Wno-double-promotion -o $@ $< $(STLIB) -lm

.PHONY: check-tinylm
check-tinylm: $(B)/tinylm
	./$(B)/tinylm

CHECK_TARGETS += check-tinylm
