/*
 * What each process's file descriptors refer to, as /proc/PID/fd/N names it:
 * a path, "anon_inode:[eventfd]", and for pipes and sockets their kind,
 * "pipe:" and "socket:" (the inode the kernel adds would make each
 * connection a name of its own). Names are syms labels, so a stack can carry
 * one as a frame.
 *
 * /proc only tells the present, so the caller keeps the model current as
 * the process acts: an fd it closes is forgotten, a new one is named while
 * it is still open, a fork copies the names, an exec re-reads them. A name
 * not known is read from /proc on first use. A process's names outlive it.
 */
#ifndef STACKPROF_FDNAMES_H
#define STACKPROF_FDNAMES_H

#include <stdint.h>

struct syms;
struct fdnames;

/* Labels are made in @syms, which must outlive the model. NULL + errno on failure. */
struct fdnames *fdnames__new(struct syms *syms);
void fdnames__delete(struct fdnames *f);

/*
 * The label of @fd in process @pid: the known one, else read now from
 * /proc/PID/fd (and kept). 0 when unknown: not open, or the process is gone
 * (then /proc is not asked again for it).
 */
uint64_t fdnames__get(struct fdnames *f, uint32_t pid, int fd);

/* The label of @fd in @pid if known, without asking /proc; 0 otherwise. */
uint64_t fdnames__known(struct fdnames *f, uint32_t pid, int fd);

/* Reads @fd of @pid from /proc now, replacing what was known. Returns the label or 0. */
uint64_t fdnames__read(struct fdnames *f, uint32_t pid, int fd);

/* Sets @fd of @pid to @label (0 forgets it). */
void fdnames__set(struct fdnames *f, uint32_t pid, int fd, uint64_t label);

/*
 * Replaces every name of @pid by what /proc/PID/fd lists now. When /proc
 * cannot be read (the process is gone), what was known stays. Returns the
 * number of fds read, or -errno.
 */
int fdnames__scan(struct fdnames *f, uint32_t pid);

/* Forgets fds @first..@last of @pid (close, close_range, dup2 over an fd). */
void fdnames__forget(struct fdnames *f, uint32_t pid, uint32_t first, uint32_t last);

/* @child was forked from @parent: it starts with a copy of the parent's names. */
void fdnames__fork(struct fdnames *f, uint32_t parent, uint32_t child);

/* Number of processes and names known, for -v. */
uint64_t fdnames__nr(const struct fdnames *f);

#endif
