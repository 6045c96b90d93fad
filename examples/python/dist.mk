# examples/python/dist.mk — data-parallel training with torch.distributed
# (gloo on loopback, CPU) and the prefloss Python binding.
#
#   make check-dist-gloo  world sizes 1-4 with unequal shards and an empty
#                         one, each compared with one process on the
#                         concatenated batch (examples/python/check_dist.sh)
DIST_PY   := /usr/bin/python3
DIST_DEPS := python3-torch python3-numpy

.PHONY: check-dist-gloo
check-dist-gloo: $(SHLIB) $(B)/$(SONAME)
	@$(call ensure_packages,$(DIST_DEPS))
	@mkdir -p $(B)/examples
	@PREFLOSS_LIBRARY=$(CURDIR)/$(B)/$(SONAME) sh examples/python/check_dist.sh $(DIST_PY) $(B)/examples/dist-gloo.txt

CHECK_ALL_TARGETS += check-dist-gloo
