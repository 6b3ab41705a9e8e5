/* Loops for benchmarks/epoch_memory.py (built with cc -O2 -march=native -shared -fPIC).
 *
 * gather_ns_per_row: the per-sample epoch's memory pattern without gdcore: 200,000 rows of 16
 * doubles (25.6 MB) read in a shuffled or sequential order, each row's two cache lines asked
 * for `ahead` rows in advance with __builtin_prefetch (0: none, like the C loop of c_reference.c),
 * a dot product, `work` dependent multiply-adds standing in for the rest of a step, and an
 * update. The rows live in memory mapped here, 2 MiB aligned, advised into huge pages or kept
 * on 4 KB pages (MADV_NOHUGEPAGE), so that page walks can be switched on and off.
 *
 * alu_wide, alu_calls: loops that touch no memory (eight independent multiply-add chains; a
 * table of tiny functions called indirectly, the shape of a lowered step's closures): their time
 * moves only with the core, never with caches or pages. */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

enum { FEATURES = 16 };

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* rows x 16 doubles, 2 MiB aligned, on huge pages (huge=1) or 4 KB pages (huge=0); null on failure. */
double* gather_rows_alloc(int64_t rows, int huge) {
  const size_t bytes = (size_t)rows * FEATURES * 8, align = (size_t)2 << 20;
  char* p = mmap(NULL, bytes + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
  double* d = (double*)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
  madvise(d, bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  for (size_t i = 0; i < (size_t)rows * FEATURES; ++i) d[i] = (double)(i % 1000) * 1e-3;
  return d;
}

static volatile double sink;

double gather_ns_per_row(const double* X, const int64_t* order, int64_t rows, int ahead, int work) {
  double w[FEATURES] = {0}, acc = 0;
  const double start = seconds();
  for (int64_t s = 0; s < rows; ++s) {
    if (ahead) {
      const char* p = (const char*)(X + order[s + ahead < rows ? s + ahead : rows - 1] * FEATURES);
      __builtin_prefetch(p);
      __builtin_prefetch(p + FEATURES * 8 - 1);
    }
    const double* x = X + order[s] * FEATURES;
    double d = -1.0;
    for (int j = 0; j < FEATURES; ++j) d += x[j] * w[j];
    for (int k = 0; k < work; ++k) d = d * 0.999999 + 1e-9;
    acc += d;
    for (int j = 0; j < FEATURES; ++j) w[j] -= 1e-6 * d * x[j];
  }
  sink = acc + w[0];
  return (seconds() - start) / (double)rows * 1e9;
}

double alu_wide(long n) {
  double a[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  for (long k = 0; k < n; ++k)
    for (int j = 0; j < 8; ++j) a[j] = a[j] * 0.999999 + 1e-9;
  double s = 0;
  for (int j = 0; j < 8; ++j) s += a[j];
  return s;
}

typedef void (*Op)(double*);
static void op_add(double* s) { s[0] = s[1] + s[2]; }
static void op_mul(double* s) { s[1] = s[0] * s[3]; }
static void op_sub(double* s) { s[2] = s[1] - s[0] * 1e-9; }
static void op_fma(double* s) { s[3] = s[3] * 0.999999 + s[2] * 1e-12; }
static void op_cpy(double* s) { s[4] = s[0]; s[5] = s[1]; }
static void op_neg(double* s) { s[0] = -s[4] * 0.5 + s[5] * 1e-9; }

double alu_calls(long n) {
  static Op volatile table[12] = {op_add, op_mul, op_sub, op_fma, op_cpy, op_neg,
                                  op_mul, op_add, op_cpy, op_sub, op_fma, op_neg};
  double s[8] = {1, 2, 3, 0.5, 0, 0, 0, 0};
  for (long k = 0; k < n; ++k)
    for (int j = 0; j < 12; ++j) table[j](s);
  return s[0] + s[3];
}
