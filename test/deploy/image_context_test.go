package deploy_test

import (
	"bufio"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// dockerContext lists the files .dockerignore lets into the image build
// context. It understands the form the file uses: "*" to exclude
// everything, then "!dir/" or "!file" to let a tree back in, then
// "**/pattern" to exclude again inside it.
func dockerContext(t *testing.T, root string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatalf(".dockerignore: %v", err)
	}
	defer f.Close()
	var rules []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			rules = append(rules, line)
		}
	}
	if len(rules) == 0 || rules[0] != "*" {
		t.Fatalf(".dockerignore must start by excluding everything (*), so new files stay out unless named; rules: %v", rules)
	}
	included := func(rel string) bool {
		in := false
		for _, r := range rules[1:] {
			neg := strings.HasPrefix(r, "!")
			pat := strings.TrimPrefix(r, "!")
			match := false
			switch {
			case strings.HasPrefix(pat, "**/"):
				p := strings.TrimSuffix(strings.TrimPrefix(pat, "**/"), "/")
				for _, part := range strings.Split(rel, "/") {
					if ok, _ := path.Match(p, part); ok {
						match = true
					}
				}
			case strings.HasSuffix(pat, "/"):
				match = strings.HasPrefix(rel, pat)
			default:
				match = rel == pat
			}
			if match {
				in = neg
			}
		}
		return in
	}
	var files []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel = filepath.ToSlash(rel); included(rel) {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// The image build context holds what the build needs and nothing else:
// no history, local data, env files or build outputs, and the binary
// builds from it alone.
func TestImageBuildContextHoldsOnlyTheSources(t *testing.T) {
	root := filepath.Join("..", "..")
	files := dockerContext(t, root)
	for _, f := range files {
		top, _, _ := strings.Cut(f, "/")
		if top == ".git" || top == "data" || top == "bin" || top == "dist" || strings.HasSuffix(f, ".env") || strings.HasSuffix(f, ".db") || strings.HasSuffix(f, "_test.go") {
			t.Errorf("the image build context includes %s", f)
		}
	}
	if testing.Short() {
		return
	}
	dir := t.TempDir()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "build", "-o", filepath.Join(t.TempDir(), "mocpcr"), "./cmd/mocpcr")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the binary does not build from the image build context alone: %v\n%s", err, out)
	}
}
