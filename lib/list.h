/* SPDX-License-Identifier: MIT */
/*
 * The intrusive doubly linked list of maicache's user space: a struct
 * mc_list is both a list head and a node embedded in the element, the
 * element found again with mc_list_entry(). An empty head points at itself;
 * so does a node on no list, which makes mc_list_del() safe to repeat.
 * Nothing is allocated; nothing is locked (everything runs on one loop).
 */
#ifndef MAICACHE_LIST_H
#define MAICACHE_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct mc_list {
	struct mc_list *prev, *next;
};

static inline void mc_list_init(struct mc_list *h)
{
	h->prev = h->next = h;
}

static inline bool mc_list_empty(const struct mc_list *h)
{
	return h->next == h;
}

/* Insert n between a and b, which are adjacent. */
static inline void mc_list_insert(struct mc_list *n, struct mc_list *a,
				  struct mc_list *b)
{
	n->prev = a;
	n->next = b;
	a->next = n;
	b->prev = n;
}

/* n before pos: at the tail when pos is the head. */
static inline void mc_list_add_before(struct mc_list *n, struct mc_list *pos)
{
	mc_list_insert(n, pos->prev, pos);
}

static inline void mc_list_add_tail(struct mc_list *h, struct mc_list *n)
{
	mc_list_add_before(n, h);
}

static inline void mc_list_add_head(struct mc_list *h, struct mc_list *n)
{
	mc_list_insert(n, h, h->next);
}

static inline void mc_list_del(struct mc_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	mc_list_init(n);
}

/* Move every node of src to the tail of dst; src ends empty. */
static inline void mc_list_splice_tail(struct mc_list *dst, struct mc_list *src)
{
	if (mc_list_empty(src))
		return;
	src->next->prev = dst->prev;
	dst->prev->next = src->next;
	src->prev->next = dst;
	dst->prev = src->prev;
	mc_list_init(src);
}

#define mc_list_entry(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#define mc_list_first(h, type, member) \
	(mc_list_empty(h) ? NULL : mc_list_entry((h)->next, type, member))

/* pos is the element; tmp lets the body delete it. */
#define mc_list_for_each_safe(pos, tmp, h, member)				\
	for (pos = mc_list_entry((h)->next, __typeof__(*pos), member),		\
	     tmp = mc_list_entry(pos->member.next, __typeof__(*pos), member);	\
	     &pos->member != (h);						\
	     pos = tmp, tmp = mc_list_entry(tmp->member.next, __typeof__(*pos), member))

#define mc_list_for_each(pos, h, member)					\
	for (pos = mc_list_entry((h)->next, __typeof__(*pos), member);		\
	     &pos->member != (h);						\
	     pos = mc_list_entry(pos->member.next, __typeof__(*pos), member))

#endif /* MAICACHE_LIST_H */
