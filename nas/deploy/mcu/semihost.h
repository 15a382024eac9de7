/*
 * semihost.h: minimal ARM semihosting for the piconas MCU test harness (QEMU
 * -semihosting-config enable=on,target=native). File names are resolved by the host, relative
 * to QEMU's working directory. No libc needed; works on ARMv6-M and ARMv7-M (bkpt 0xab).
 */
#ifndef PICONAS_SEMIHOST_H
#define PICONAS_SEMIHOST_H

#include <stdint.h>

#define SH_MODE_RB 1 /* fopen "rb" */
#define SH_MODE_WB 5 /* fopen "wb" */

int sh_open(const char *name, int mode);                 /* handle, or -1 */
int sh_read(int handle, void *buf, uint32_t size);       /* bytes NOT read (0 = all) */
int sh_write(int handle, const void *buf, uint32_t size); /* bytes NOT written */
int sh_close(int handle);
void sh_write0(const char *text); /* prints a NUL-terminated string on the host */
void sh_exit(int status) __attribute__((noreturn)); /* QEMU exits 0 when status == 0, else 1 */

#endif /* PICONAS_SEMIHOST_H */
