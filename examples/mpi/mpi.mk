# examples/mpi/mpi.mk — data-parallel training with OpenMPI (Debian's
# openmpi-bin, libopenmpi-dev; installed when missing).
#
#   make check-dist-mpi   world sizes 1-4 with unequal shards and an empty
#                         one, each compared with one process on the
#                         concatenated batch, from log-probs and from
#                         logits (examples/mpi/check.sh)
#   make dist-mpi-demo    one run: 4 ranks, shares 1,3,0,2
MPI_DEPS := openmpi-bin libopenmpi-dev
MPI_BIN  := $(B)/examples/train_mpi

$(MPI_BIN): examples/mpi/train_mpi.c $(STLIB)
	@mkdir -p $(@D)
	mpicc $(ALL_CFLAGS) -Werror $< $(STLIB) -lm -o $@

.PHONY: check-dist-mpi dist-mpi-demo mpi-deps
mpi-deps:
	@$(call ensure_packages,$(MPI_DEPS))

check-dist-mpi: mpi-deps
	@$(MAKE) --no-print-directory $(MPI_BIN)
	@sh examples/mpi/check.sh $(MPI_BIN) $(B)/examples/dist-mpi.txt

dist-mpi-demo: mpi-deps
	@$(MAKE) --no-print-directory $(MPI_BIN)
	OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_oob_tcp_if_include=lo \
	    mpirun --allow-run-as-root --oversubscribe -np 4 $(MPI_BIN) --shares 1,3,0,2

CHECK_ALL_TARGETS += check-dist-mpi
