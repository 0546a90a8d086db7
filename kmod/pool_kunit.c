// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the pool's memory: segments from the linear map and
 * segments from vmalloc space (the fallback when no contiguous block is
 * free) side by side. What the daemon writes through the page its mapping
 * faults in must be what a hit copies from the kernel address, for both.
 */
#include <kunit/test.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>

#include "maicache.h"

#define TEST_SEGS	2

/* Write through the daemon's view of each page; read the kernel's view. */
static void pool_pages_match_kernel_view(struct kunit *test,
					 struct mc_pool *pool)
{
	u64 off;

	for (off = 0; off < pool->size; off += PAGE_SIZE) {
		struct page *page = mc_pool_page(pool, off);
		u8 *daemon = kmap_local_page(page);
		u8 *kernel = mc_pool_addr(pool, off);

		KUNIT_ASSERT_EQ(test, kernel[0], 0);
		daemon[0] = off >> PAGE_SHIFT;
		daemon[PAGE_SIZE - 1] = 0x5a;
		kunmap_local(daemon);
		KUNIT_ASSERT_EQ(test, kernel[0], (u8)(off >> PAGE_SHIFT));
		KUNIT_ASSERT_EQ(test, kernel[PAGE_SIZE - 1], 0x5a);
		/* An ordinary page the fault handler can take a reference on. */
		KUNIT_ASSERT_EQ(test, page_count(page), 1);
	}
}

static void pool_contiguous_and_vmalloc_segments(struct kunit *test)
{
	struct mc_pool *pool;
	u32 contig = 0;
	void *vseg;

	KUNIT_ASSERT_EQ(test, mc_pool_create(TEST_SEGS * BIT_ULL(MC_SEG_SHIFT),
					     mc_cache_unindex, &pool), 0);
	KUNIT_EXPECT_EQ(test, pool->nr_segments, TEST_SEGS);
	/* Swap segment 1 for a vmalloc one, as a fragmented node would get. */
	vseg = mc_seg_alloc(false, &contig);
	KUNIT_ASSERT_NOT_NULL(test, vseg);
	KUNIT_EXPECT_EQ(test, contig, 0U);
	KUNIT_EXPECT_TRUE(test, is_vmalloc_addr(vseg));
	if (!is_vmalloc_addr(pool->seg_mem[1]))
		pool->nr_contig--;
	mc_seg_free(pool->seg_mem[1]);
	pool->seg_mem[1] = vseg;

	pool_pages_match_kernel_view(test, pool);
	/* The two segments are distinct memory. */
	KUNIT_EXPECT_PTR_NE(test, mc_pool_page(pool, 0),
			    mc_pool_page(pool, BIT_ULL(MC_SEG_SHIFT)));
	mc_pool_put(pool);
}

/* A contiguous segment is one block, its pages in address order. */
static void pool_contiguous_segment_is_one_block(struct kunit *test)
{
	u32 contig = 0;
	void *seg = mc_seg_alloc(true, &contig);
	u32 i;

	KUNIT_ASSERT_NOT_NULL(test, seg);
	if (!contig) {
		mc_seg_free(seg);
		kunit_skip(test, "no free 4 MiB block in this kernel");
	}
	KUNIT_EXPECT_FALSE(test, is_vmalloc_addr(seg));
	for (i = 0; i < BIT(MC_SEG_SHIFT - PAGE_SHIFT); i++)
		KUNIT_EXPECT_PTR_EQ(test, virt_to_page(seg + i * PAGE_SIZE),
				    virt_to_page(seg) + i);
	mc_seg_free(seg);
}

static struct kunit_case pool_cases[] = {
	KUNIT_CASE(pool_contiguous_and_vmalloc_segments),
	KUNIT_CASE(pool_contiguous_segment_is_one_block),
	{}
};

static struct kunit_suite pool_suite = {
	.name = "maicache-pool",
	.test_cases = pool_cases,
};

kunit_test_suite(pool_suite);

MODULE_LICENSE("GPL");
