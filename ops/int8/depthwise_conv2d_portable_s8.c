/* int8 depthwise convolution, the portable variant (depthwise_conv2d_variants_s8.h): what
 * Cortex-M0/M3 run and the fallback of every other core.
 * Output channels in chunks of DW_CHUNK: per chunk the requantization constants (requant32_s8.h:
 * 32-bit multiplies only, as Armv6-M needs), the bias with the input offset folded in (bias +
 * offset * sum of the channel's taps) and each channel's input channel (oc / M) are computed
 * once; then for every output pixel the pixel's window runs over the chunk's channels. With
 * M = 1, a 3x3 window entirely inside the image takes an unrolled body over the folded bias (no
 * bounds, no offset per tap); border windows and other layers walk their in-image taps by
 * constant steps. */
#include <stddef.h>

#include "depthwise_conv2d_variants_s8.h"
#include "int8_checks.h"
#include "requant32_s8.h"
#include "requantize.h"

#define DW_CHUNK 16
#if defined(__GNUC__)
#define DW_PORTABLE_NOINLINE static __attribute__((noinline))
#else
#define DW_PORTABLE_NOINLINE static
#endif

typedef struct {
  const int8_t *filter; /* tap (0, 0), output channel 0 */
  int32_t channels;     /* C_out: the filter's channel stride */
  int32_t tap_dy;       /* input bytes between kernel rows: dilation.h * W * C_in */
  int32_t tap_dx;       /* input bytes between kernel columns: dilation.w * C_in */
  int32_t filter_w;     /* KW */
  int32_t offset;       /* input offset */
  int fast;             /* requant32 applies */
  const int32_t *multiplier;
  const int32_t *shift;
  piconas_s8_clamp_stage out;
  int32_t c0, n;            /* the chunk: output channels c0 .. c0 + n - 1 */
  int32_t folded[DW_CHUNK]; /* bias + offset * sum of taps (used when fast) */
  int32_t source[DW_CHUNK]; /* input channel of each output channel */
  piconas_s8_rq32 rq[DW_CHUNK];
} dw_portable_args;

static int8_t dw_portable_out(const dw_portable_args *a, int32_t acc, int32_t j) {
  const int32_t c = a->c0 + j;
  return piconas_s8_clamp_store(
      piconas_s8_rq32_or_mbqm(acc, a->fast, &a->rq[j], a->multiplier[c], a->shift[c]), &a->out);
}

#if defined(__GNUC__) && defined(__ARM_ARCH_6M__)
/* One kernel row of dw_portable_3x3_dot on Armv6-M: taps at [p], [p, c1], [p, c2] and the same
 * in q (LDRSB has no immediate form: the first tap is LDRB + SXTB); then the step to the next
 * row: p by dy, q by 3 ch. */
/* clang-format off */
#define PICONAS_DW_ROW_6M                 \
  "ldrb %[u], [%[p], #0]\n\t"            \
  "sxtb %[u], %[u]\n\t"                  \
  "ldrb %[t], [%[q], #0]\n\t"            \
  "sxtb %[t], %[t]\n\t"                  \
  "muls %[t], %[u], %[t]\n\t"            \
  "adds %[acc], %[acc], %[t]\n\t"        \
  "ldrsb %[u], [%[p], %[c1]]\n\t"        \
  "ldrsb %[t], [%[q], %[c1]]\n\t"        \
  "muls %[t], %[u], %[t]\n\t"            \
  "adds %[acc], %[acc], %[t]\n\t"        \
  "ldrsb %[u], [%[p], %[c2]]\n\t"        \
  "ldrsb %[t], [%[q], %[c2]]\n\t"        \
  "muls %[t], %[u], %[t]\n\t"            \
  "adds %[acc], %[acc], %[t]\n\t"
#define PICONAS_DW_NEXT_ROW_6M            \
  "add %[p], %[dy]\n\t"                  \
  "adds %[q], %[q], %[c1]\n\t"           \
  "adds %[q], %[q], %[c2]\n\t"
/* clang-format on */
#endif

/* acc + the 3x3 taps of one channel: p, q at tap (0, 0) of the input and the filter; the taps
 * of a row are ch apart in both (dilation 1, M = 1), the rows dy and 3 * ch. */
static int32_t dw_portable_3x3_dot(const int8_t *p, const int8_t *q, int32_t ch, int32_t dy,
                                   int32_t acc) {
#if defined(__GNUC__) && defined(__ARM_ARCH_6M__)
  /* Armv6-M: the column offsets ch and 2 ch in registers for both streams, about 5
   * instructions per tap (GCC's form recomputes addresses and spills: about 7). Seven low
   * registers and one high: what every optimization level leaves (-Os gives inline assembly
   * a single high register, a frame pointer takes r7). */
  const int32_t ch2 = 2 * ch;
  int32_t u, t;
  /* clang-format off */
  __asm__(".syntax unified\n\t"
          PICONAS_DW_ROW_6M PICONAS_DW_NEXT_ROW_6M
          PICONAS_DW_ROW_6M PICONAS_DW_NEXT_ROW_6M
          PICONAS_DW_ROW_6M
          ".syntax divided"
          : [acc] "+l"(acc), [p] "+l"(p), [q] "+l"(q), [u] "=&l"(u), [t] "=&l"(t)
          : [c1] "l"(ch), [c2] "l"(ch2), [dy] "h"(dy)
          : "cc", "memory");
  /* clang-format on */
  return acc;
#else
  const int8_t *p1 = p + dy, *p2 = p1 + dy, *q1 = q + 3 * ch, *q2 = q1 + 3 * ch;
  acc += q[0] * p[0] + q[ch] * p[ch] + q[2 * ch] * p[2 * ch];
  acc += q1[0] * p1[0] + q1[ch] * p1[ch] + q1[2 * ch] * p1[2 * ch];
  acc += q2[0] * p2[0] + q2[ch] * p2[ch] + q2[2 * ch] * p2[2 * ch];
  return acc;
#endif
}

/* The chunk of one pixel whose 3x3 window (x at tap (0, 0), channel c0) is inside; M = 1,
 * dilation 1 and requant32 applies. Fields are copied to locals: the int8 stores could alias
 * the struct. */
DW_PORTABLE_NOINLINE void dw_portable_3x3(const dw_portable_args *a, const int8_t *x, int8_t *y) {
  const int32_t ch = a->channels, dy = a->tap_dy, n = a->n;
  const int8_t *w = a->filter + a->c0;
  const int32_t *folded = a->folded;
  const piconas_s8_rq32 *rq = a->rq;
  const piconas_s8_clamp_stage out = a->out;
  int32_t j;
  for (j = 0; j < n; ++j) {
    const int32_t acc = dw_portable_3x3_dot(x + j, w + j, ch, dy, folded[j]);
    y[j] = piconas_s8_clamp_store(piconas_s8_rq32_apply(acc, &rq[j]), &out);
  }
}

/* acc + sum of (x + off) * w over n >= 1 taps of one kernel row: x at p, p + step_x, ..., the
 * weights at q, q + step_w, .... */
static int32_t dw_portable_row(const int8_t *p, const int8_t *q, int32_t step_x, int32_t step_w,
                               int32_t n, int32_t off, int32_t acc) {
#if defined(__GNUC__) && defined(__ARM_ARCH_6M__)
  if (step_x == step_w) {
    /* Armv6-M: the weight addressed as p + (q - p), so one pointer walks both streams; 9
     * instructions per tap (GCC's form: about 12); seven low registers and one high. */
    const uint32_t d = (uint32_t)((uintptr_t)q - (uintptr_t)p);
    int32_t u, t;
    __asm__(
        ".syntax unified\n"
        "1:\n\t"
        "ldrb %[u], [%[p], #0]\n\t"
        "sxtb %[u], %[u]\n\t"
        "ldrsb %[t], [%[p], %[d]]\n\t"
        "adds %[u], %[u], %[off]\n\t"
        "muls %[t], %[u], %[t]\n\t"
        "add %[acc], %[t]\n\t"
        "adds %[p], %[p], %[step]\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 1b\n\t"
        ".syntax divided"
        : [acc] "+h"(acc), [p] "+l"(p), [n] "+l"(n), [u] "=&l"(u), [t] "=&l"(t)
        : [d] "l"(d), [off] "l"(off), [step] "l"(step_x)
        : "cc", "memory");
    return acc;
  }
#endif
  for (;;) { /* no step past the last tap: the pointers stay inside the arrays */
    acc += (int32_t)*q * ((int32_t)*p + off);
    if (--n == 0) return acc;
    p += step_x;
    q += step_w;
  }
}

/* The chunk of one pixel over its in-image taps [ky0, ky1) x [kx0, kx1) (x at tap (ky0, kx0),
 * input channel 0; null when there are none): bias + sum of w * (x + offset). */
static void dw_portable_taps(const dw_portable_args *a, const int8_t *x, const int32_t *bias,
                             int32_t ky0, int32_t ky1, int32_t kx0, int32_t kx1, int8_t *y) {
  const int32_t ch = a->channels, wrow = a->filter_w * ch, off = a->offset, n = a->n;
  const int32_t dy = a->tap_dy, dx = a->tap_dx, c0 = a->c0;
  const int8_t *w = a->filter + ((ptrdiff_t)ky0 * a->filter_w + kx0) * ch + c0;
  const int32_t *source = a->source;
  int32_t j, ky;
  for (j = 0; j < n; ++j) {
    const int8_t *prow = x != NULL ? x + source[j] : NULL;
    const int8_t *qrow = w + j;
    int32_t acc = bias != NULL ? bias[c0 + j] : 0;
    for (ky = ky0; ky < ky1 && kx1 > kx0; ++ky) {
      acc = dw_portable_row(prow, qrow, dx, ch, kx1 - kx0, off, acc);
      if (ky + 1 < ky1) { /* no step past the last row */
        prow += dy;
        qrow += wrow;
      }
    }
    y[j] = dw_portable_out(a, acc, j);
  }
}

static void dw_portable_chunk(dw_portable_args *a, const int32_t *bias, int32_t taps, int32_t mult,
                              int32_t c0) {
  int32_t j, t;
  a->c0 = c0;
  a->n = a->channels - c0 < DW_CHUNK ? a->channels - c0 : DW_CHUNK;
  for (j = 0; j < a->n; ++j) {
    const int32_t c = c0 + j;
    int32_t sum = 0;
    for (t = 0; t < taps; ++t) sum += a->filter[(ptrdiff_t)t * a->channels + c];
    /* |bias + offset * sum| < 2^29 under requant32's bound (a->fast); else not used. */
    a->folded[j] = a->fast ? (bias != NULL ? bias[c] : 0) + a->offset * sum : 0;
    a->source[j] = c / mult;
    a->rq[j] = piconas_s8_rq32_of(a->multiplier[c], a->shift[c]);
  }
}

void piconas_depthwise_conv2d_portable_run_s8(const piconas_dw_conv_params *params,
                                              const piconas_per_channel_quant_params *quant,
                                              const piconas_dims *in, const int8_t *input,
                                              const piconas_dims *f, const int8_t *filter,
                                              const int32_t *bias, const piconas_dims *out,
                                              int8_t *output) {
  dw_portable_args a;
  const int32_t cin = in->c;
  const int k3x3 = f->h == 3 && f->w == 3 && params->ch_mult == 1 && params->dilation.h == 1 &&
                   params->dilation.w == 1;
  int32_t c0, b, oy, ox;
  a.filter = filter;
  a.channels = out->c;
  a.tap_dy = params->dilation.h * in->w * cin;
  a.tap_dx = params->dilation.w * cin;
  a.filter_w = f->w;
  a.offset = params->input_offset;
  a.multiplier = quant->multiplier;
  a.shift = quant->shift;
  a.fast = piconas_s8_rq32_ok(quant->multiplier, quant->shift, bias, out->c, f->h * f->w);
  a.out = piconas_s8_clamp_stage_of(params->output_offset, params->activation);
  for (c0 = 0; c0 < out->c; c0 += DW_CHUNK) {
    dw_portable_chunk(&a, bias, f->h * f->w, params->ch_mult, c0);
    for (b = 0; b < out->n; ++b) {
      const int8_t *image = input + (ptrdiff_t)b * in->h * in->w * cin;
      for (oy = 0; oy < out->h; ++oy) {
        const int32_t iy0 = oy * params->stride.h - params->padding.h;
        int32_t ky0, ky1;
        int8_t *y = output + ((ptrdiff_t)b * out->h + oy) * out->w * out->c + c0;
        piconas_s8_tap_range(iy0, params->dilation.h, f->h, in->h, &ky0, &ky1);
        for (ox = 0; ox < out->w; ++ox, y += out->c) {
          const int32_t ix0 = ox * params->stride.w - params->padding.w;
          int32_t kx0, kx1;
          piconas_s8_tap_range(ix0, params->dilation.w, f->w, in->w, &kx0, &kx1);
          if (ky0 >= ky1 || kx0 >= kx1) {
            dw_portable_taps(&a, NULL, bias, 0, 0, 0, 0, y); /* no tap: bias only */
          } else {
            const ptrdiff_t tap0 = (ptrdiff_t)(iy0 + ky0 * params->dilation.h) * in->w +
                                   (ix0 + kx0 * params->dilation.w);
            const int8_t *x = image + tap0 * cin;
            if (a.fast && k3x3 && ky0 == 0 && ky1 == 3 && kx0 == 0 && kx1 == 3) {
              dw_portable_3x3(&a, x + c0, y);
            } else {
              dw_portable_taps(&a, x, bias, ky0, ky1, kx0, kx1, y);
            }
          }
        }
      }
    }
  }
}
