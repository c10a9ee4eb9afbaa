# The book's build. Every target reads the chapter list from
# chapters/chapters.json through scripts/stagegen.
#
#   make test              markers, format, vet, unit tests, then every written stage
#   make test CH=<slug>    the same, for one stage only
#   make stage CH=<slug>   the code as it stands at the end of a chapter, in build/stages/<slug>
#   make diff CH=<slug>    what that chapter adds to the previous stage
#   make demo              build mydocker and run a container
#   make readme            rewrite the chapter table in README.md
#   make snippets          rewrite the code snippets in the chapter text from the source

# sudo resets PATH, so look for Go where provision.sh puts it too.
GO ?= $(shell PATH="$$PATH:/usr/local/go/bin" command -v go)
STAGEGEN := $(GO) run ./scripts/stagegen
STAGES := build/stages

.PHONY: test check unit stage diff chapters demo readme snippets test-stage build

test: check unit
ifdef CH
	@$(MAKE) --no-print-directory test-stage CH=$(CH)
else
	@for ch in $$($(STAGEGEN) chapters --written); do \
		$(MAKE) --no-print-directory test-stage CH=$$ch || exit 1; \
	done
endif

# Markers, the README table and the chapter snippets agree with the source;
# the source is formatted and vetted.
check:
	$(STAGEGEN) check
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' | grep -v /testdata/)); \
	if [ -n "$$unformatted" ]; then echo "not gofmt-formatted (run gofmt -w):"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

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
# with the integration tests of every chapter up to this one.
test-stage: stage
	@echo "=== stage $(CH)"
	cd $(STAGES)/$(CH) && $(GO) build ./...
	@cd $(STAGES)/$(CH) && unformatted=$$(gofmt -l .); \
	if [ -n "$$unformatted" ]; then echo "stage $(CH) is not gofmt-formatted:"; echo "$$unformatted"; exit 1; fi
	cd $(STAGES)/$(CH) && $(GO) vet ./...
	cd $(STAGES)/$(CH) && $(GO) test -count=1 ./...

# The integration tests of the last written stage (or CH=<slug>) on cgroup v2:
# in a throwaway QEMU VM that boots Debian's kernel (scripts/vm/run.sh).
.PHONY: test-vm
test-vm:
	GO=$(GO) scripts/vm/run.sh $(CH)

build:
	CGO_ENABLED=0 $(GO) build -o build/mydocker ./mydocker

demo: build
	build/mydocker run -h demo sh -c 'hostname; ps -ef'

readme:
	$(STAGEGEN) readme

snippets:
	$(STAGEGEN) snippets --fix
