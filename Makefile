# The book's build. Every target reads the chapter list from
# chapters/chapters.json through scripts/stagegen.
#
#   make test              markers, format, vet, unit tests, then every tested stage
#                          (the chapters whose status is written or code), the labs'
#                          graders and the chapters' transcripts
#   make test CH=<slug>    the same, for one stage only
#   make stage CH=<slug>   the code as it stands at the end of a chapter, in build/stages/<slug>
#   make diff CH=<slug>    what that chapter adds to the previous stage
#   make build             build the final source's mydocker into build/mydocker (nothing is installed)
#   make image             build the busybox image and put it in the state root (/var/lib/mydocker)
#   make demo              build mydocker and the image, and run a container
#   make bench             time a container against runc and bwrap, into docs/performance.md (as root)
#   make conformance       run the probe under a real Docker and under mydocker, and compare the
#                          reports; every difference must be listed in scripts/conformance/differences.txt
#                          (as root; needs Debian's docker.io, which CI installs)
#   make diagrams          check that every Mermaid diagram in the chapters parses (needs Node.js)
#   make readme            rewrite the chapter table in README.md
#   make snippets          rewrite the code snippets in the chapter text from the source
#   make lab CH=<slug>     write a lab workspace: the chapter's code with its lab's parts cut out
#                          (into build/labs/<slug>, or DIR=...; RESET=1 moves your work aside first)
#   make grade CH=<slug>   grade a lab workspace with the book's tests, as a scoreboard (as root)
#   make test-labs         prove every lab's grader: the stubs fail, the book's code passes (as root)
#   make transcripts-check run the console blocks of the texts and compare their output (as root)
#   make transcripts       the same, and rewrite the texts' outputs from the run (as root)
#   make test-vm [CH=slug] the integration tests of a stage on cgroup v2, in a QEMU VM, after the
#                          chapter's cgroup v2 transcripts (as root)
#   make transcripts-vm    the cgroup v2 transcripts of every text, each in a VM of its stage

# sudo resets PATH, so look for Go where provision.sh puts it too.
GO ?= $(shell PATH="$$PATH:/usr/local/go/bin" command -v go)
STAGEGEN := $(GO) run ./scripts/stagegen
GRADE := GO=$(GO) $(GO) run ./scripts/grade
# urfave/cli links in its markdown and man-page generators unless this tag
# says not to. mydocker never uses them, and each start of the binary (two
# per container) is faster without them: make bench measured about 3 ms.
export GOFLAGS ?= -tags=urfave_cli_no_docs
# The formatter of the Go that builds, which may not be the gofmt on PATH:
# the distribution's Go links only `go` into /usr/local/bin, sudo's PATH
# lacks /usr/local/go/bin, and a toolchain switch (GOTOOLCHAIN) brings a
# gofmt of its own. A missing one fails the check instead of passing it.
GOFMT ?= $(shell $(GO) env GOROOT 2>/dev/null)/bin/gofmt
# $(call gofmt_check,FILES,WHAT): fail, listing them, if FILES are not
# formatted; WHAT says what they are.
define gofmt_check
test -x "$(GOFMT)" || { echo "gofmt not found at $(GOFMT): the Go in $(GO) has none (install the Go toolchain with scripts/provision.sh)"; exit 1; }; \
unformatted=$$($(GOFMT) -l $(1)) || { echo "gofmt failed on $(2)"; exit 1; }; \
if [ -n "$$unformatted" ]; then echo "not gofmt-formatted ($(2); run gofmt -w):"; echo "$$unformatted"; exit 1; fi
endef
STAGES := build/stages
IMAGE := build/images/busybox.tar
# The integration tests run in a network namespace of their own.
OWN_NETNS := $(abspath scripts/own-netns.sh)
MYDOCKER_ROOT ?= /var/lib/mydocker

.PHONY: test check fmt-check unit stage diff chapters demo readme snippets test-stage build image lab grade test-labs

test: check unit
ifdef CH
	@$(MAKE) --no-print-directory test-stage CH=$(CH)
	@if $(GRADE) -list | grep -qx '$(CH)'; then $(GRADE) -image $(IMAGE) -selftest $(CH); fi
else
	@$(MAKE) --no-print-directory test-stages
	@started=$$(date +%s); $(MAKE) --no-print-directory test-labs && echo "=== the labs' graders: $$(($$(date +%s) - started)) s"
	@started=$$(date +%s); $(MAKE) --no-print-directory transcripts-check && echo "=== the transcripts: $$(($$(date +%s) - started)) s"
endif

# Every stage is built, format-checked and unit-tested; its integration
# tests are the chapter's own, and the last stage, vetted too, runs all of
# them (stagegen owntests): the whole suite and vet on every stage would
# cost their time once per chapter.
.PHONY: test-stages
test-stages:
	@last=$$($(STAGEGEN) chapters --tested | tail -n 1); \
	for ch in $$($(STAGEGEN) chapters --tested); do \
		run="" vet=1; [ "$$ch" = "$$last" ] || { run=$$($(STAGEGEN) owntests $$ch); vet=0; }; \
		started=$$(date +%s); \
		$(MAKE) --no-print-directory test-stage CH=$$ch RUN="$$run" VET=$$vet || exit 1; \
		echo "=== stage $$ch: $$(($$(date +%s) - started)) s"; \
	done

# Markers, the README table and the chapter snippets agree with the source;
# the source is formatted and vetted.
check:
	$(STAGEGEN) check
	@$(MAKE) --no-print-directory fmt-check
	$(GO) vet ./...

# The format check alone; FILES=... checks those files instead of the
# repository's (scripts/makefile_test.go tests the check itself).
fmt-check:
	@$(call gofmt_check,$(or $(FILES),$$(git ls-files '*.go' | grep -v /testdata/)),the repository)

# Unit tests need no root.
unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /integration)

stage:
	@test -n "$(CH)" || { echo "usage: make stage CH=<slug> (slugs: make chapters)"; exit 2; }
	$(STAGEGEN) stage $(CH)

diff:
	@test -n "$(CH)" || { echo "usage: make diff CH=<slug>"; exit 2; }
	@$(STAGEGEN) diff $(CH)

chapters:
	@$(STAGEGEN) chapters

# One stage: generate it, then build, format-check, vet and test it on its own,
# with the integration tests of every chapter up to this one (RUN=PATTERN: only
# those that match, and VET=0: no vet, as make test does for the stages before
# the last).
test-stage: stage $(IMAGE)
	@echo "=== stage $(CH)"
	@# -trimpath: Go's build cache then keys the stage's packages on their
	@# contents, not on this directory, so the labs' graders, which build
	@# the same code in trees of their own, find them compiled.
	cd $(STAGES)/$(CH) && $(GO) build -trimpath ./...
	@cd $(STAGES)/$(CH) && { $(call gofmt_check,.,the stage $(CH)); }
	$(if $(filter 0,$(VET)),,cd $(STAGES)/$(CH) && $(GO) vet ./...)
	cd $(STAGES)/$(CH) && $(GO) test -trimpath -count=1 $$($(GO) list ./... | grep -v /integration)
	@# The integration tests run in a network namespace of their own, with no
	@# way out: every module they build with is fetched first.
	@cd $(STAGES)/$(CH) && $(GO) list -deps -test ./... >/dev/null
	@# -timeout: go test stops a package after 10 minutes; the last
	@# stage's integration tests take 4 here, but 40 to 50 in the
	@# emulated VM of make vagrant-test.
	cd $(STAGES)/$(CH) && MYDOCKER_TEST_BUSYBOX_IMAGE=$(abspath $(IMAGE)) $(OWN_NETNS) $(GO) test -trimpath -count=1 -timeout 120m $(if $(RUN),-run '$(RUN)') ./mydocker/integration

# The integration tests of the last tested stage (written or code; or CH=<slug>) on cgroup v2:
# in a throwaway QEMU VM that boots Debian's kernel (scripts/vm/run.sh).
.PHONY: test-vm
test-vm: $(IMAGE)
	GO=$(GO) IMAGE=$(IMAGE) scripts/vm/run.sh $(CH)

# The repository's own Vagrantfile, booted for real with a Debian 12 box
# built here, and the latest stage's tests run inside (ALL=1: every stage's);
# then everything it made is removed (scripts/vagrant/test.sh). Opt-in, root,
# 60 to 85 minutes where there is no KVM; not part of make test or CI.
.PHONY: vagrant-test
vagrant-test:
	GO=$(GO) scripts/vagrant/test.sh

# The console blocks that need cgroup v2 (<!-- transcript: cgroup v2 -->),
# each text's in a VM of its own stage, without the integration tests.
.PHONY: transcripts-vm
transcripts-vm: $(IMAGE)
	@for text in $$(grep -l -x -F '<!-- transcript: cgroup v2 -->' chapters/*/README.md labs/*/README.md | sort -u); do \
		dir=$$(basename $$(dirname $$text)); \
		GO=$(GO) IMAGE=$(IMAGE) VM_RUN=transcripts scripts/vm/run.sh $${dir#*-} || exit 1; \
	done

# The final source's mydocker, into build/mydocker (the demo runs it; the
# chapters build theirs inside their stage). Nothing is installed.
build:
	CGO_ENABLED=0 $(GO) build -o build/mydocker ./mydocker

demo: build image
	build/mydocker run --rm -h demo -m 64m busybox sh -c 'hostname; ps; ls /'

# The busybox image, made from Debian's busybox-static package: no Docker
# and no registry needed.
$(IMAGE): scripts/image/busybox.sh
	scripts/image/busybox.sh $@

image: $(IMAGE)
	install -D -m 0644 $(IMAGE) $(MYDOCKER_ROOT)/images/busybox.tar

# mydocker run's time next to runc's and bwrap's, for the last tested stage (written or code)
# or CH=<slug> (scripts/bench/run.sh). BENCH_QUICK=1: a few runs, build/bench only.
.PHONY: bench
bench:
	GO=$(GO) CH=$(CH) scripts/bench/run.sh

# The probe's report from a Docker container next to a mydocker container's,
# same image, same flags, for the last tested stage (or CH=<slug>): a dockerd
# of its own, stopped at the end; reports in build/conformance
# (scripts/conformance/run.sh).
.PHONY: conformance
conformance: $(IMAGE)
	GO=$(GO) CH=$(CH) scripts/conformance/run.sh

# The chapters' Mermaid diagrams, parsed by Mermaid itself (the versions
# are pinned in scripts/diagrams/package-lock.json).
.PHONY: diagrams
diagrams:
	cd scripts/diagrams && npm ci --no-audit --no-fund --loglevel=error && node check.mjs ../../chapters/*/README.md

readme:
	$(STAGEGEN) readme

snippets:
	$(STAGEGEN) snippets --fix

# Labs (labs/README.md): a workspace with the chapter's lab parts cut out,
# graded with the book's own tests.
DIR ?= build/labs/$(CH)
lab:
	@test -n "$(CH)" || { echo "usage: make lab CH=<slug> [DIR=...] [RESET=1] (the labs: labs/README.md)"; exit 2; }
	@$(STAGEGEN) lab $(CH) -o $(DIR) $(if $(RESET),-reset)

grade: $(IMAGE)
	@test -n "$(CH)" || { echo "usage: sudo make grade CH=<slug> [DIR=...]"; exit 2; }
	@$(GRADE) -image $(IMAGE) $(CH) $(DIR)

# Every lab's grader, proven both ways: the workspace builds and vets, its
# stubs fail their parts' tests, the book's code passes them.
test-labs: $(IMAGE)
	@for ch in $$($(GRADE) -list); do $(GRADE) -image $(IMAGE) -selftest $$ch || exit 1; done

# The console blocks of the chapters, the labs and README.md, run against
# their stages in a sandbox (docs/transcripts.md).
.PHONY: transcripts transcripts-check
# Which texts: by default those of scripts/transcripts/checked.txt; TEXTS=all
# for every text, or TEXTS="chapters/05-overlay/README.md ..." for some.
TRANSCRIPT_TEXTS = $(if $(TEXTS),$(filter-out all,$(TEXTS)),-texts-from scripts/transcripts/checked.txt)
transcripts-check: $(IMAGE)
	GO=$(GO) scripts/transcripts/sandbox.sh $(GO) run ./scripts/transcripts -image $(IMAGE) $(TRANSCRIPT_TEXTS)

transcripts: $(IMAGE)
	GO=$(GO) scripts/transcripts/sandbox.sh $(GO) run ./scripts/transcripts -fix -image $(IMAGE) $(TRANSCRIPT_TEXTS)
