/*
 * bench_kernels.c: instructions per int8 kernel call under QEMU (-icount shift=0), for the layer
 * shapes of tiny-bench and mbv2-bench (`piconas info tiny-bench`, `piconas info mbv2-bench`) and
 * the two large-kernel depthwise layers of the `piconas run` winner (bench/mcu_models.sh).
 * For each layer: the portable kernels as the wrapper picked them before the SIMD variants
 * ("old"), the wrappers of today ("new"), for depthwise layers also the in-place kernel
 * ("inplace", depthwise_conv2d_inplace_s8.h, its output over its input), for conv layers the
 * export-time packed filter ("packed", conv2d_packed_s8.h) and, with -DPICONAS_BENCH_CMSIS_NN, the
 * same shapes through CMSIS-NN's wrappers (a user's checkout; see bench/README.md). Every run's
 * output is compared byte for byte with the old kernel's. "emitted" (SIMD cores, depthwise and
 * dense conv layers) times the `_prechecked` entry point `piconas export` emits for the layer.
 * Instructions come from SysTick, calibrated at start-up against a loop of known length
 * (ticks -> instructions per board).
 * Built and run by bench/mcu_kernels/run.sh.
 */
#include <stdint.h>

#include "ops/int8/int8_kernels.h"
#include "semihost.h"
#ifdef PICONAS_BENCH_CMSIS_NN
#include "arm_nnfunctions.h"
#endif

#ifndef BENCH_ARENA_BYTES
#define BENCH_ARENA_BYTES (3 * 1024 * 1024)
#endif

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

typedef enum { CONV, DW, ADD } kind_t;

typedef struct {
  const char *name;
  kind_t kind;
  int32_t h, w, cin, cout, k, stride, pad;
} layer_t;

static const layer_t kLayers[] = {
    {"tiny stem conv3x3 1->8 @28", CONV, 28, 28, 1, 8, 3, 1, 1},
    {"tiny b0.dw 3x3 8ch @28", DW, 28, 28, 8, 8, 3, 1, 1},
    {"tiny b0.pw 1x1 8->16 @28", CONV, 28, 28, 8, 16, 1, 1, 0},
    {"tiny b1.dw 3x3/s2 16ch @28", DW, 28, 28, 16, 16, 3, 2, 1},
    {"tiny b1.pw 1x1 16->32 @14", CONV, 14, 14, 16, 32, 1, 1, 0},
    {"tiny b2.dw 3x3 32ch @14", DW, 14, 14, 32, 32, 3, 1, 1},
    {"tiny b2.pw 1x1 32->32 @14", CONV, 14, 14, 32, 32, 1, 1, 0},
    {"tiny b3.dw 3x3/s2 32ch @14", DW, 14, 14, 32, 32, 3, 2, 1},
    {"tiny b3.pw 1x1 32->64 @7", CONV, 7, 7, 32, 64, 1, 1, 0},
    {"mbv2 stem conv3x3/s2 3->16 @96", CONV, 96, 96, 3, 16, 3, 2, 1},
    {"mbv2 b0.expand 1x1 16->96 @48", CONV, 48, 48, 16, 96, 1, 1, 0},
    {"mbv2 b0.dw 3x3 96ch @48", DW, 48, 48, 96, 96, 3, 1, 1},
    {"mbv2 b0.project 1x1 96->16 @48", CONV, 48, 48, 96, 16, 1, 1, 0},
    {"mbv2 b0.add 16x48x48", ADD, 48, 48, 16, 16, 1, 1, 0},
    {"mbv2 b2.dw 3x3 144ch @24", DW, 24, 24, 144, 144, 3, 1, 1},
    {"mbv2 b3.dw 3x3/s2 144ch @24", DW, 24, 24, 144, 144, 3, 2, 1},
    {"mbv2 b2.project 1x1 144->24 @24", CONV, 24, 24, 144, 24, 1, 1, 0},
    {"mbv2 b2.add 24x24x24", ADD, 24, 24, 24, 24, 1, 1, 0},
    {"mbv2 b7.expand 1x1 64->384 @6", CONV, 6, 6, 64, 384, 1, 1, 0},
    {"mbv2 b7.dw 3x3 384ch @6", DW, 6, 6, 384, 384, 3, 1, 1},
    {"winner b1.dw 5x5/s2 96ch @14", DW, 14, 14, 96, 96, 5, 2, 2},
    {"winner b2.dw 7x7 192ch @7", DW, 7, 7, 192, 192, 7, 1, 3},
};

static int32_t arena_words[BENCH_ARENA_BYTES / 4];
static uint32_t rng_state = 12345u;

static uint32_t next_random(void) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return rng_state >> 8;
}

static void fill_s8(int8_t *p, int32_t n) {
  int32_t i;
  for (i = 0; i < n; ++i) p[i] = (int8_t)(next_random() & 0xFF);
}

/* ---- output: semihosting without libc ---- */
static char line[160];
static int line_len;
static void put(const char *s) {
  while (*s && line_len < (int)sizeof line - 2) line[line_len++] = *s++;
}
static void put_int(int64_t v) {
  char buf[24];
  int n = 0;
  uint64_t u = v < 0 ? (uint64_t)-v : (uint64_t)v;
  do {
    buf[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) buf[n++] = '-';
  while (n) {
    char c[2];
    c[0] = buf[--n];
    c[1] = 0;
    put(c);
  }
}
static void flush(void) {
  line[line_len++] = '\n';
  line[line_len] = 0;
  sh_write0(line);
  line_len = 0;
}

/* Instructions per SysTick tick x 1000, from a loop of 2 * n instructions. */
static uint32_t milli_instructions_per_tick;

static uint32_t ticks_now(void) { return SYST_CVR; }
static uint32_t ticks_since(uint32_t start) { return (start - SYST_CVR) & 0x00FFFFFFu; }

static void calibrate(void) {
  uint32_t n = 200000, start, ticks;
  SYST_RVR = 0x00FFFFFFu;
  SYST_CVR = 0;
  SYST_CSR = 5u;
  start = ticks_now();
#if defined(__ARM_ARCH_6M__) /* Thumb-1 inline assembly is in divided syntax */
  __asm__ volatile("1: sub %0, #1\n\tbne 1b" : "+l"(n) : : "cc");
#else
  __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+l"(n) : : "cc");
#endif
  ticks = ticks_since(start);
  milli_instructions_per_tick = (uint32_t)((uint64_t)400000 * 1000 / (ticks ? ticks : 1));
}

static int64_t instructions(uint32_t ticks) {
  return ((int64_t)ticks * milli_instructions_per_tick + 500) / 1000;
}

static int same(const int8_t *a, const int8_t *b, int32_t n) {
  int32_t i;
  for (i = 0; i < n; ++i)
    if (a[i] != b[i]) return 0;
  return 1;
}

static int failures;

static void report(const char *what, uint32_t ticks, int status, const int8_t *y, const int8_t *ref,
                   int32_t n) {
  put(" ");
  put(what);
  put(" ");
  put_int(instructions(ticks));
  if (status != 0) {
    put(" (status ");
    put_int(status);
    put(")");
    ++failures;
  } else if (y != ref && !same(y, ref, n)) {
    put(" (MISMATCH)");
    ++failures;
  }
}

static void run_layer(const layer_t *l) {
  int8_t *arena = (int8_t *)arena_words;
  const int32_t oh = (l->h + 2 * l->pad - l->k) / l->stride + 1;
  const int32_t ow = (l->w + 2 * l->pad - l->k) / l->stride + 1;
  const int32_t in_size = l->h * l->w * l->cin, out_size = oh * ow * l->cout;
  const int32_t wsize = l->kind == DW ? l->k * l->k * l->cout : l->k * l->k * l->cin * l->cout;
  const int32_t scratch = 4 * l->k * l->k * l->cin * 2 + 4 * l->cin * 4 + 8192;
  int32_t used = 0, i;
  int8_t *x, *x2, *w, *y_old, *y_new, *buf;
  int32_t *bias, *mult, *shift;
  uint32_t t;
  int status;
  piconas_dims in = {1, l->h, l->w, l->cin}, out = {1, oh, ow, l->cout};
  piconas_dims f = {l->cout, l->k, l->k, l->cin};
  piconas_per_channel_quant_params q;
  piconas_s8_context ctx;
#define TAKE(ptr, type, count)  \
  ptr = (type *)(arena + used); \
  used += (int32_t)(((count) * sizeof(type) + 15) & ~15u)
  TAKE(x, int8_t, in_size);
  TAKE(x2, int8_t, in_size);
  TAKE(w, int8_t, wsize);
  TAKE(y_old, int8_t, out_size);
  TAKE(y_new, int8_t, out_size + 16 + wsize + 8 * l->cout + 64); /* + a packed filter */
  TAKE(bias, int32_t, l->cout);
  TAKE(mult, int32_t, l->cout);
  TAKE(shift, int32_t, l->cout);
  TAKE(buf, int8_t, scratch);
  put(l->name);
  put(":");
  if (used > BENCH_ARENA_BYTES) {
    put(" skipped (needs ");
    put_int(used);
    put(" bytes of RAM)");
    flush();
    return;
  }
  fill_s8(x, in_size);
  fill_s8(x2, in_size);
  fill_s8(w, wsize);
  for (i = 0; i < l->cout; ++i) {
    bias[i] = (int32_t)(next_random() % 4001) - 2000;
    mult[i] = (int32_t)(0x40000000u + (next_random() & 0x3FFFFFFFu));
    shift[i] = -6 - (int32_t)(next_random() % 3);
  }
  q.multiplier = mult;
  q.shift = shift;
  ctx.buf = buf;
  ctx.size = scratch;
  if (l->kind == ADD) {
    piconas_add_params p = {5,  1518500250, -1,         -3,  1073741824, 0,
                            20, -7,         1288490189, -19, {-128, 127}};
    t = ticks_now();
    status = piconas_add_generic_s8(&p, x, x2, y_old, in_size);
    report("old", ticks_since(t), status, y_old, y_old, out_size);
    t = ticks_now();
    status = piconas_add_s8(&p, x, x2, y_new, in_size);
    report("new", ticks_since(t), status, y_new, y_old, out_size);
#ifdef PICONAS_BENCH_CMSIS_NN
    t = ticks_now();
    status = arm_elementwise_add_s8(x, x2, p.input1_offset, p.input1_multiplier, p.input1_shift,
                                    p.input2_offset, p.input2_multiplier, p.input2_shift,
                                    p.left_shift, y_new, p.output_offset, p.output_multiplier,
                                    p.output_shift, -128, 127, in_size);
    report("cmsis", ticks_since(t), status, y_new, y_old, out_size);
#endif
  } else if (l->kind == DW) {
    piconas_dw_conv_params p = {5,      -3,       1, {l->stride, l->stride}, {l->pad, l->pad},
                                {1, 1}, {-3, 127}};
    f.n = 1;
    f.c = l->cout;
    t = ticks_now();
    status = piconas_depthwise_conv2d_generic_s8(&p, &q, &in, x, &f, w, bias, &out, y_old);
    report("old", ticks_since(t), status, y_old, y_old, out_size);
    t = ticks_now();
    status = piconas_depthwise_conv2d_s8(&p, &q, &in, x, &f, w, bias, &out, y_new);
    report("new", ticks_since(t), status, y_new, y_old, out_size);
#if PICONAS_S8_SIMD_PREFERRED
    /* What `piconas export` emits for this layer: its checks ran at export (not timed), then the
     * _prechecked entry point (the plane variant when piconas_depthwise_conv2d_simd_plane_fits). */
    if (piconas_depthwise_conv2d_simd_applies(&p, &q, bias, &f) &&
        piconas_depthwise_conv2d_s8_check(&p, &q, &in, &f, bias, &out) == 0 &&
        piconas_depthwise_conv2d_mve_fits(&p, &in, &f, &out)) {
      const int plane = piconas_depthwise_conv2d_simd_plane_fits(&p, &f, &out);
      t = ticks_now();
      status = plane ? piconas_depthwise_conv2d_simd_plane_prechecked_s8(&p, &q, &in, x, &f, w,
                                                                         bias, &out, y_new)
                     : piconas_depthwise_conv2d_simd_prechecked_s8(&p, &q, &in, x, &f, w, bias,
                                                                   &out, y_new);
      report("emitted", ticks_since(t), status, y_new, y_old, out_size);
    }
#endif
    for (i = 0; i < in_size; ++i) x2[i] = x[i]; /* in place: input, then output, in x2 */
    t = ticks_now();
    status = piconas_depthwise_conv2d_inplace_s8(&ctx, &p, &q, &in, &f, w, bias, &out, x2);
    report("inplace", ticks_since(t), status, x2, y_old, out_size);
#ifdef PICONAS_BENCH_CMSIS_NN
    {
      cmsis_nn_dw_conv_params cp = {5,      -3,       1, {l->stride, l->stride}, {l->pad, l->pad},
                                    {1, 1}, {-3, 127}};
      cmsis_nn_dims ci = {1, l->h, l->w, l->cin}, cf = {1, l->k, l->k, l->cout},
                    co = {1, oh, ow, l->cout}, cb = {1, 1, 1, l->cout};
      cmsis_nn_per_channel_quant_params cq = {mult, shift};
      cmsis_nn_context cc = {buf,
                             arm_depthwise_conv_wrapper_s8_get_buffer_size(&cp, &ci, &cf, &co)};
      t = ticks_now();
      status = cc.size > scratch ? -100
                                 : arm_depthwise_conv_wrapper_s8(&cc, &cp, &cq, &ci, x, &cf, w, &cb,
                                                                 bias, &co, y_new);
      report("cmsis", ticks_since(t), status, y_new, y_old, out_size);
    }
#endif
  } else {
    piconas_conv_params p = {5, -3, {l->stride, l->stride}, {l->pad, l->pad}, {1, 1}, {-3, 127}};
    const int is_1x1 = l->k == 1 && l->pad == 0;
    t = ticks_now();
    status = is_1x1 ? piconas_conv2d_1x1_s8(&ctx, &p, &q, &in, x, &f, w, bias, &out, y_old)
                    : piconas_conv2d_generic_s8(&ctx, &p, &q, &in, x, &f, w, bias, &out, y_old);
    report("old", ticks_since(t), status, y_old, y_old, out_size);
    t = ticks_now();
    status = piconas_conv2d_s8(&ctx, &p, &q, &in, x, &f, w, bias, &out, y_new);
    report("new", ticks_since(t), status, y_new, y_old, out_size);
#if PICONAS_S8_SIMD_PREFERRED
    /* What `piconas export` emits for a dense (not 1x1) layer: its checks ran at export (not
     * timed), then the window entry point when the Cortex-M55 window kernel fits, else im2col. */
    if (!is_1x1 && piconas_conv2d_simd_applies(&q, bias, &f) &&
        piconas_conv2d_s8_check(&p, &q, &in, &f, bias, &out) == 0) {
      const int window = piconas_conv2d_mve_window_fits(&p, &in, &f);
      t = ticks_now();
      status = window ? piconas_conv2d_window_simd_prechecked_s8(&ctx, &p, &q, &in, x, &f, w, bias,
                                                                 &out, y_new)
                      : piconas_conv2d_im2col_simd_prechecked_s8(&ctx, &p, &q, &in, x, &f, w, bias,
                                                                 &out, y_new);
      report("emitted", ticks_since(t), status, y_new, y_old, out_size);
    }
#endif
    if (piconas_conv2d_packed_weights_size(&f) <= wsize + 8 * l->cout + 64) {
      /* The export-time packed filter (packed at export, so not timed) in y_new's place. */
      int8_t *packed = y_new + ((out_size + 15) & ~15);
      status = piconas_conv2d_pack_s8(&f, w, packed);
      ctx.size = piconas_conv2d_packed_s8_get_buffer_size(&f);
      t = ticks_now();
      status = status != 0 || ctx.size > scratch
                   ? -100
                   : piconas_conv2d_packed_s8(&ctx, &p, &q, &in, x, &f, packed, bias, &out, y_new);
      report("packed", ticks_since(t), status, y_new, y_old, out_size);
      ctx.size = scratch;
    }
#ifdef PICONAS_BENCH_CMSIS_NN
    {
      cmsis_nn_conv_params cp = {5,      -3,       {l->stride, l->stride}, {l->pad, l->pad},
                                 {1, 1}, {-3, 127}};
      cmsis_nn_dims ci = {1, l->h, l->w, l->cin}, cf = {l->cout, l->k, l->k, l->cin},
                    co = {1, oh, ow, l->cout}, cb = {1, 1, 1, l->cout};
      cmsis_nn_per_channel_quant_params cq = {mult, shift};
      cmsis_nn_context cc = {buf, arm_convolve_wrapper_s8_get_buffer_size(&cp, &ci, &cf, &co)};
      t = ticks_now();
      status = cc.size > scratch
                   ? -100
                   : arm_convolve_wrapper_s8(&cc, &cp, &cq, &ci, x, &cf, w, &cb, bias, &co, y_new);
      report("cmsis", ticks_since(t), status, y_new, y_old, out_size);
    }
#endif
  }
  flush();
}

int main(void) {
  uint32_t i;
  calibrate();
  put("instructions per SysTick tick x1000: ");
  put_int(milli_instructions_per_tick);
  flush();
#ifdef BENCH_ONLY /* one layer (index), e.g. for a per-function profile with qemu -d exec */
  run_layer(&kLayers[BENCH_ONLY]);
  (void)i;
#else
  for (i = 0; i < sizeof kLayers / sizeof kLayers[0]; ++i) run_layer(&kLayers[i]);
#endif
  return failures == 0 ? 0 : 1;
}
