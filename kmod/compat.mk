# SPDX-License-Identifier: GPL-2.0
# Kernel API differences between the kernels maicache supports, detected
# from the headers being built against rather than from version numbers.
# Included by kmod/Kbuild and by the KUnit build.
mc_have = $(shell grep -Eqs '$(2)' $(srctree)/include/linux/$(1) && echo -D$(3))

# 6.9+: blk_alloc_disk() takes the queue limits.
ccflags-y += $(call mc_have,blkdev.h,define blk_alloc_disk.lim. node_id,MC_HAVE_ALLOC_DISK_LIMITS)
# 6.3+: vm_flags may only change through the vm_flags_*() helpers.
ccflags-y += $(call mc_have,mm.h,static inline void vm_flags_mod,MC_HAVE_VM_FLAGS_MOD)
# 6.2+: genl pre_doit gets the split ops.
ccflags-y += $(call mc_have,../net/genetlink.h,pre_doit.{2}const struct genl_split_ops,MC_HAVE_GENL_SPLIT_OPS)
