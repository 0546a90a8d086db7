// SPDX-License-Identifier: GPL-2.0
/*
 * Deliberate bugs, one per sanitizer of tests/kunit/debug.config, to show
 * that `tests/kunit/run.sh --debug` fails when one fires. Never part of a
 * normal run: run.sh builds this file only when MAICACHE_KUNIT_INJECT names
 * a bug, and each case below only with its MC_INJECT_* flag.
 */
#include <kunit/test.h>
#include <linux/jiffies.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/vmalloc.h>

#ifdef MC_INJECT_UAF
/* KASAN: a read of a freed object. */
static void inject_use_after_free(struct kunit *test)
{
	u8 *p = kmalloc(64, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	kfree(p);
	/* Keep the compiler from proving the read dead. */
	OPTIMIZER_HIDE_VAR(p);
	kunit_info(test, "read %u", READ_ONCE(p[8]));
}
#endif

#ifdef MC_INJECT_VMALLOC
/*
 * KASAN_VMALLOC: a read just past the end of a vmalloc area, inside its
 * last page (so mapped), as a pool segment from vmalloc space would see it.
 */
static void inject_vmalloc_out_of_bounds(struct kunit *test)
{
	size_t size = PAGE_SIZE + 100;
	u8 *p = vmalloc(size);

	KUNIT_ASSERT_NOT_NULL(test, p);
	OPTIMIZER_HIDE_VAR(p);
	kunit_info(test, "read %u", READ_ONCE(p[size]));
	vfree(p);
}
#endif

#ifdef MC_INJECT_SLEEP
static DEFINE_SPINLOCK(inject_lock);

/* DEBUG_ATOMIC_SLEEP: a GFP_KERNEL allocation under a spinlock. */
static void inject_sleep_in_atomic(struct kunit *test)
{
	void *p;

	spin_lock(&inject_lock);
	p = kmalloc(64, GFP_KERNEL);
	spin_unlock(&inject_lock);
	kfree(p);
}
#endif

#ifdef MC_INJECT_LOCKORDER
static DEFINE_MUTEX(inject_a);
static DEFINE_MUTEX(inject_b);

/* lockdep: A then B, later B then A; one thread, so no real deadlock. */
static void inject_lock_inversion(struct kunit *test)
{
	mutex_lock(&inject_a);
	mutex_lock(&inject_b);
	mutex_unlock(&inject_b);
	mutex_unlock(&inject_a);

	mutex_lock(&inject_b);
	mutex_lock(&inject_a);
	mutex_unlock(&inject_a);
	mutex_unlock(&inject_b);
}
#endif

#ifdef MC_INJECT_ODEBUG
struct inject_timed {
	struct timer_list timer;
};

static void inject_timer_fn(struct timer_list *t)
{
}

/*
 * DEBUG_OBJECTS: freeing an object whose timer is armed. The object
 * debugging fixup deactivates the timer, so nothing fires on freed memory.
 */
static void inject_free_armed_timer(struct kunit *test)
{
	struct inject_timed *o = kzalloc(sizeof(*o), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, o);
	timer_setup(&o->timer, inject_timer_fn, 0);
	mod_timer(&o->timer, jiffies + 1000 * HZ);
	kfree(o);
}
#endif

static struct kunit_case inject_cases[] = {
#ifdef MC_INJECT_UAF
	KUNIT_CASE(inject_use_after_free),
#endif
#ifdef MC_INJECT_VMALLOC
	KUNIT_CASE(inject_vmalloc_out_of_bounds),
#endif
#ifdef MC_INJECT_SLEEP
	KUNIT_CASE(inject_sleep_in_atomic),
#endif
#ifdef MC_INJECT_LOCKORDER
	KUNIT_CASE(inject_lock_inversion),
#endif
#ifdef MC_INJECT_ODEBUG
	KUNIT_CASE(inject_free_armed_timer),
#endif
	{}
};

static struct kunit_suite inject_suite = {
	.name = "maicache-inject",
	.test_cases = inject_cases,
};

kunit_test_suite(inject_suite);

MODULE_LICENSE("GPL");
