package web_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// leftoverUploads lists the multipart temporary files in dir.
func leftoverUploads(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "multipart-") {
			names = append(names, e.Name())
		}
	}
	return names
}

// multipartBody is a form with one file part of n bytes.
func multipartBody(field, name string, n int) (*bytes.Buffer, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("email", "x@example.com")
	fw, _ := mw.CreateFormFile(field, name)
	fw.Write(bytes.Repeat([]byte("a"), n))
	mw.Close()
	return &buf, mw.FormDataContentType()
}

// onlyReader hides the length of a body so it is sent chunked: the server
// learns it is too large only while reading.
type onlyReader struct{ io.Reader }

func send(t *testing.T, method, url, contentType, token string, body io.Reader) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, body)
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Every request body is bounded by its route before anything reads it: an
// oversized one is refused with 413 and a message naming the limit,
// whether it announces its length or not, and no upload leaves a
// temporary file behind.
func TestOversizedBodiesAreRefusedBeforeTheyAreStored(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		f.Service.MaxAttachmentBytes = 8 << 20
		ch := c.call("initiator", "POST", "/api/v1/changes", newChangeBody("MOC", f.NRF, f.CDU), 201)["change"].(map[string]any)
		attachments := c.srv.URL + "/api/v1/changes/" + jsonNum(ch["id"]) + "/attachments"
		const forty = 40 << 20

		// Anonymous, to the sign-in form: refused on its announced length.
		body, ct := multipartBody("file", "big.bin", forty)
		if status, msg := send(t, "POST", c.srv.URL+"/auth/login", ct, "", body); status != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "at most 1 MB") {
			t.Errorf("anonymous 40 MB post to /auth/login: %d %.200s", status, msg)
		}
		// The same, chunked: a sign-in form takes no files at all.
		body, ct = multipartBody("file", "big.bin", forty)
		if status, msg := send(t, "POST", c.srv.URL+"/auth/login", ct, "", onlyReader{body}); status != http.StatusUnprocessableEntity || !strings.Contains(msg, "takes no file uploads") {
			t.Errorf("anonymous chunked multipart post to /auth/login: %d %.200s, want 422 saying it takes no uploads", status, msg)
		}
		// A chunked form past the small limit.
		form := "email=" + strings.Repeat("a", 2<<20)
		if status, msg := send(t, "POST", c.srv.URL+"/auth/login", "application/x-www-form-urlencoded", "", onlyReader{strings.NewReader(form)}); status != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "at most 1 MB") {
			t.Errorf("chunked 2 MB form to /auth/login: %d %.200s", status, msg)
		}
		// A signed-in caller's JSON past the small limit.
		big := `{"title":"` + strings.Repeat("a", 2<<20) + `"}`
		if status, msg := send(t, "POST", c.srv.URL+"/api/v1/changes", "application/json", c.tokens["initiator"], onlyReader{strings.NewReader(big)}); status != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "body") {
			t.Errorf("chunked 2 MB JSON: %d %.200s", status, msg)
		}
		// A signed-in upload past the attachment limit, announced and chunked.
		for _, chunked := range []bool{false, true} {
			body, ct = multipartBody("file", "big.bin", forty)
			var r io.Reader = body
			if chunked {
				r = onlyReader{body}
			}
			if status, msg := send(t, "POST", attachments, ct, c.tokens["initiator"], r); status != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "at most 9 MB") {
				t.Errorf("40 MB upload (chunked %v): %d %.200s", chunked, status, msg)
			}
		}
		// A file larger than what is parsed in memory is stored, and its
		// temporary file is gone when the request ends.
		body, ct = multipartBody("file", "pid.pdf.txt", 3<<20)
		if status, msg := send(t, "POST", attachments, ct, c.tokens["initiator"], body); status != http.StatusCreated {
			t.Fatalf("3 MB upload: %d %.200s", status, msg)
		}
		if got := c.call("initiator", "GET", "/api/v1/changes/"+jsonNum(ch["id"])+"/attachments", nil, 200)["attachments"].([]any); len(got) != 1 {
			t.Errorf("attachments after one good upload: %v", got)
		}
		if left := leftoverUploads(t, tmp); len(left) != 0 {
			t.Errorf("temporary upload files outlived their requests: %v", left)
		}
	})
}

// Clients that stop reading a large download do not hold the read gate:
// with more stalled downloads than the gate admits, another user's reads
// still answer.
func TestStalledDownloadsDoNotBlockOtherReaders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		f.Service.MaxAttachmentBytes = 25 << 20
		ch := c.call("initiator", "POST", "/api/v1/changes", newChangeBody("MOC", f.NRF, f.CDU), 201)["change"].(map[string]any)
		base := "/api/v1/changes/" + jsonNum(ch["id"]) + "/attachments"
		a := c.upload("initiator", base, "drawing.txt", bytes.Repeat([]byte("x"), 20<<20))
		download := base + "/" + jsonNum(a["id"])

		stalled := 4*runtime.GOMAXPROCS(0) + 8 // more than the gate admits
		addr := strings.TrimPrefix(c.srv.URL, "http://")
		for range stalled {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close() })
			fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", download, addr, c.tokens["initiator"])
			// Read nothing: the server's writes fill the socket buffers and block.
		}
		client := &http.Client{Timeout: 15 * time.Second}
		for _, path := range []string{"/api/v1/me", "/api/v1/changes", download} {
			req, _ := http.NewRequest("GET", c.srv.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+c.tokens["approver"])
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("GET %s by another user behind %d stalled downloads: %v", path, stalled, err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || n == 0 {
				t.Errorf("GET %s: %d, %d bytes", path, resp.StatusCode, n)
			}
		}
	})
}

// A server with short read and write timeouts still serves the live
// stream past them (it renews its own deadline) and a large download to
// a slow reader (it gets a deadline from its size).
func TestLongAnswersOutliveTheServerTimeouts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		f.Service.MaxAttachmentBytes = 25 << 20
		c.web.StreamHeartbeat = 100 * time.Millisecond
		short := httptest.NewUnstartedServer(c.web.Handler())
		short.Config.ReadTimeout = 300 * time.Millisecond
		short.Config.WriteTimeout = 300 * time.Millisecond
		short.Start()
		t.Cleanup(short.Close)
		ch := c.call("initiator", "POST", "/api/v1/changes", newChangeBody("MOC", f.NRF, f.CDU), 201)["change"].(map[string]any)
		base := "/api/v1/changes/" + jsonNum(ch["id"]) + "/attachments"
		a := c.upload("initiator", base, "drawing.txt", bytes.Repeat([]byte("x"), 12<<20))

		req, _ := http.NewRequest("GET", short.URL+base+"/"+jsonNum(a["id"]), nil)
		req.Header.Set("Authorization", "Bearer "+c.tokens["initiator"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got int64
		buf := make([]byte, 1<<20)
		for {
			time.Sleep(60 * time.Millisecond) // about 1 s for 12 MB: past the write timeout
			n, err := io.ReadFull(resp.Body, buf)
			got += int64(n)
			if err != nil {
				break
			}
		}
		resp.Body.Close()
		if got != 12<<20 {
			t.Errorf("slow reader got %d bytes of %d", got, 12<<20)
		}

		req, _ = http.NewRequest("GET", short.URL+"/events", nil)
		req.Header.Set("Authorization", "Bearer "+c.tokens["initiator"])
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		start := time.Now()
		keepAlives := 0
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() && time.Since(start) < time.Second {
			if strings.HasPrefix(sc.Text(), ": keep-alive") {
				keepAlives++
			}
		}
		if time.Since(start) < time.Second || keepAlives < 3 {
			t.Errorf("event stream ended after %v with %d keep-alives (%v); it should outlive a 300 ms write timeout", time.Since(start).Round(time.Millisecond), keepAlives, sc.Err())
		}
	})
}

// Oversized parameters and lists are refused with a message naming the
// field and the limit, not answered slowly or stored.
func TestOversizedParametersAndListsNameTheirLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		ch := c.call("initiator", "POST", "/api/v1/changes", newChangeBody("MOC", f.NRF, f.CDU), 201)["change"].(map[string]any)
		base := "/api/v1/changes/" + jsonNum(ch["id"])
		cases := []struct {
			name, method, path string
			body               any
			field, words       string
		}{
			{"search text", "GET", "/api/v1/changes?q=" + strings.Repeat("p", 201), nil, "q", "at most 200 characters"},
			{"equipment tags", "PATCH", base, map[string]any{"equipment_tags": manyTags(51)}, "equipment_tags", "at most 50 tags"},
			{"acknowledgers", "POST", base + "/acknowledgers", map[string]any{"user_ids": manyIDs(201)}, "user_ids", "at most 200 people"},
			{"checklist items", "POST", "/api/v1/pssr-templates", map[string]any{"name": "Huge", "items": manyItems(301)}, "items", "at most 300 items"},
		}
		for _, tc := range cases {
			who := "initiator"
			if tc.path == "/api/v1/pssr-templates" {
				who = "admin"
			}
			var body io.Reader
			if tc.body != nil {
				b, _ := json.Marshal(tc.body)
				body = bytes.NewReader(b)
			}
			r := bearer(t, c.srv.URL, tc.method, tc.path, c.tokens[who], body)
			var e map[string]any
			_ = json.Unmarshal([]byte(r.Body), &e)
			if r.StatusCode != http.StatusUnprocessableEntity || e["field"] != tc.field || !strings.Contains(r.Body, tc.words) {
				t.Errorf("%s: %d %.300s, want 422 naming %s (%q)", tc.name, r.StatusCode, r.Body, tc.field, tc.words)
			}
		}
		// At the limit is fine.
		if r := bearer(t, c.srv.URL, "GET", "/api/v1/changes?q="+strings.Repeat("p", 200), c.tokens["initiator"], nil); r.StatusCode != http.StatusOK {
			t.Errorf("200-character search: %d %.200s", r.StatusCode, r.Body)
		}
		// The page says the same in words.
		if r := bearer(t, c.srv.URL, "GET", "/changes?q="+strings.Repeat("p", 201), c.tokens["initiator"], nil); r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "at most 200 characters") {
			t.Errorf("changes page with a 201-character search: %d", r.StatusCode)
		}
	})
}

func manyTags(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("P-%d", 100+i)
	}
	return out
}

func manyIDs(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i + 1)
	}
	return out
}

func manyItems(n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{"text": fmt.Sprintf("Item %d checked", i)}
	}
	return out
}
