/* A ceiling for the token forward, built apart with -O3 -ffast-math (and
 * -mavx2 -mfma on x86-64): the sum of expf(x_j - m) over a row, which GCC
 * turns into glibc's vectorised expf (libmvec), an independent ~1-ulp
 * exponential, with a plain float sum — no exact difference, no
 * compensation, no maximum pass. Whatever fraction of a read stream this
 * reaches bounds what any forward computing one exponential per logit at
 * that accuracy can reach on the machine. Not part of the library (which
 * refuses fast-math). */
#include <math.h>
#include <stddef.h>

float bench_expf_row_sum(const float *x, size_t n, float m);

float bench_expf_row_sum(const float *x, size_t n, float m)
{
    float s = 0.0f;
    size_t j;
    for (j = 0; j < n; j++) s += expf(x[j] - m);
    return s;
}
