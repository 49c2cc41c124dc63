/* buf: one growable byte buffer with a hard maximum size.
 *
 * Invariants: data is NULL or points to cap bytes, len < cap whenever data is set, and
 * data[len] == '\0' after every successful append, so buf_cstr() is always a C string.
 * len never exceeds max. A buf is embedded (buf_init/buf_release), never allocated alone. */
#ifndef MANIFESTD_BUF_H
#define MANIFESTD_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#define BUF_NO_MAX ((size_t)-1)

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

/* Empties b and sets its maximum length in bytes (BUF_NO_MAX for none). Allocates nothing. */
void buf_init(struct buf *b, size_t max);
/* Frees the memory of b and leaves it empty (as after buf_init with the same max). */
void buf_release(struct buf *b);
/* Sets the length to 0 and keeps the memory for reuse. */
void buf_reset(struct buf *b);
/* Shortens b to len bytes (len <= b->len), keeping the NUL after them: the one way to
 * change a buffer's length by hand. */
void buf_truncate(struct buf *b, size_t len);
/* Makes room for n more bytes. 0, -ENOMEM, or -E2BIG when len + n would pass max. */
int buf_reserve(struct buf *b, size_t n);
/* Appends n bytes. Same returns as buf_reserve; b is unchanged on failure. */
int buf_append(struct buf *b, const void *p, size_t n);
/* Appends a C string without its NUL. */
int buf_puts(struct buf *b, const char *s);
/* Appends the n C strings of strs in order: for text made of fixed pieces and names,
 * much cheaper than buf_printf. Same returns as buf_append; b is unchanged on failure. BUF_PUTS takes the strings inline:
 *   BUF_PUTS(b, "name: '", name, "'\n") */
int buf_putsv(struct buf *b, const char *const *strs, size_t n);
#define BUF_PUTS(b, ...)                                                                  \
	buf_putsv((b), (const char *const[]){__VA_ARGS__},                                \
		  sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))
/* Appends what is left to read of the stream fp (not closed). 0, -E2BIG (it would pass
 * max), -ENOMEM, or -EIO (a read error). */
int buf_append_stream(struct buf *b, FILE *fp);
/* Appends formatted text (vsnprintf rules). */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* The contents as a NUL-terminated string, borrowed; "" for an empty buffer. */
const char *buf_cstr(const struct buf *b);
/* Hands the memory over: returns a NUL-terminated string the caller frees with free(),
 * stores its length in *ret_len when ret_len is not NULL, and leaves b empty.
 * Returns NULL on allocation failure (b is then unchanged). */
char *buf_detach(struct buf *b, size_t *ret_len);

#endif
