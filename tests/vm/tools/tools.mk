# Helper programs of the VM tests, built by `make user` into build/user/.
# Each entry: build/user/<name> from tests/vm/tools/<name>.c.
VM_TOOLS := nl-bad ring-garbage mc-regmr no-uring
$(BUILD)/user/mc-regmr: LDLIBS += -libverbs
