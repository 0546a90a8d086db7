/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough of the kernel's helpers to compile kmod/policy.c in user space
 * (tools/sim/policy-sim.c). Single-threaded: READ_ONCE/WRITE_ONCE only need
 * to compile.
 */
#ifndef MAICACHE_POLICY_USER_H
#define MAICACHE_POLICY_USER_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

typedef uint8_t u8;
typedef uint32_t u32;
typedef uint64_t u64;

#define READ_ONCE(x)		(*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, val)	(*(volatile __typeof__(x) *)&(x) = (val))

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#define GFP_KERNEL		0
#define kvcalloc(n, size, gfp)	((void)(gfp), calloc((n), (size)))
#define kvfree(p)		free(p)

/* ---- doubly linked list, head->next is the first (newest) entry ---- */

struct list_head {
	struct list_head *next, *prev;
};

static inline void INIT_LIST_HEAD(struct list_head *h)
{
	h->next = h;
	h->prev = h;
}

static inline void list_add(struct list_head *n, struct list_head *head)
{
	n->next = head->next;
	n->prev = head;
	head->next->prev = n;
	head->next = n;
}

static inline void list_del_init(struct list_head *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	INIT_LIST_HEAD(e);
}

static inline void list_move(struct list_head *e, struct list_head *head)
{
	list_del_init(e);
	list_add(e, head);
}

#define list_entry(ptr, type, member)	container_of(ptr, type, member)
#define list_last_entry(head, type, member) \
	list_entry((head)->prev, type, member)

/* ---- hash list ---- */

struct hlist_node {
	struct hlist_node *next, **pprev;
};

struct hlist_head {
	struct hlist_node *first;
};

static inline void hlist_add_head(struct hlist_node *n, struct hlist_head *h)
{
	n->next = h->first;
	if (h->first)
		h->first->pprev = &n->next;
	h->first = n;
	n->pprev = &h->first;
}

static inline void hlist_del_init(struct hlist_node *n)
{
	if (!n->pprev)
		return;
	*n->pprev = n->next;
	if (n->next)
		n->next->pprev = n->pprev;
	n->next = NULL;
	n->pprev = NULL;
}

#define hlist_for_each_entry(pos, head, member)				\
	for (pos = (head)->first ?					\
		   container_of((head)->first, __typeof__(*pos), member) : \
		   NULL;						\
	     pos;							\
	     pos = pos->member.next ?					\
		   container_of(pos->member.next, __typeof__(*pos), member) : \
		   NULL)

/* ---- arithmetic ---- */

/* The kernel's multiplicative hash: the top bits of val * 2^64 / phi. */
static inline u32 hash_64(u64 val, unsigned int bits)
{
	return (u32)((val * 0x61C8864680B583EBull) >> (64 - bits));
}

/* n >= 1 */
static inline unsigned int ilog2(unsigned long n)
{
	return (unsigned int)(sizeof(n) * 8 - 1 - __builtin_clzl(n));
}

/* n >= 2 */
static inline unsigned long roundup_pow_of_two(unsigned long n)
{
	return 1UL << (ilog2(n - 1) + 1);
}

#endif /* MAICACHE_POLICY_USER_H */
