package azurerm

import (
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/c4sctl/c4sctl/internal/azurite"
	"github.com/c4sctl/c4sctl/pkg/state"
	"github.com/zclconf/go-cty/cty"
)

// azureStore opens the backend on an Azurite container as a separate c4sctl run would.
func azureStore(t *testing.T, srv *azurite.Server, cont string, lease time.Duration) *Store {
	t.Helper()
	s, err := NewStore(Config{StorageAccountName: azurite.Account, ContainerName: cont, Key: "c4s/state.json",
		Endpoint: srv.Endpoint, AccessKey: azurite.Key, LeaseDuration: lease})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func azureBlob(t *testing.T, s *Store, ws string) *Blob {
	t.Helper()
	b, err := s.Workspace(ws)
	if err != nil {
		t.Fatal(err)
	}
	return b.(*Blob)
}

func setOne(t *testing.T, st *state.State, id string) {
	t.Helper()
	if err := st.Set("x.y", "x", "p", id, cty.ObjectVal(map[string]cty.Value{"identity": cty.StringVal(id)}), nil); err != nil {
		t.Fatal(err)
	}
}

// TestAzureRM runs against one Azurite, a container per subtest.
func TestAzureRM(t *testing.T) {
	srv := azurite.Start(t, "lock", "etag", "broken", "snap", "expiry", "workspaces")

	t.Run("lock names the holder, waits, force-unlock breaks it", func(t *testing.T) {
		t.Parallel()
		a := azureBlob(t, azureStore(t, srv, "lock", 0), state.DefaultWorkspace)
		b := azureBlob(t, azureStore(t, srv, "lock", 0), state.DefaultWorkspace)
		unlockA, err := a.Lock("apply", "test")
		if err != nil {
			t.Fatal(err)
		}
		_, err = b.Lock("plan", "test")
		var le *state.LockedError
		if !errors.As(err, &le) {
			t.Fatalf("second lock: %v, want *state.LockedError", err)
		}
		if le.Holder.Operation != "apply" || le.Holder.PID != os.Getpid() || le.Holder.ID == "" {
			t.Errorf("holder %+v", le.Holder)
		}
		for _, want := range []string{le.Holder.ID, "apply", "force-unlock", "lock/c4s/state.json"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message lacks %q:\n%s", want, err)
			}
		}
		// --lock-timeout: gives up naming the holder...
		start := time.Now()
		if _, err := state.LockWait(b, "plan", "test", 700*time.Millisecond, 100*time.Millisecond); !errors.As(err, &le) || !strings.Contains(err.Error(), "gave up waiting") {
			t.Fatalf("LockWait: %v", err)
		}
		if d := time.Since(start); d < 500*time.Millisecond {
			t.Errorf("state.LockWait gave up after %s, before its timeout", d)
		}
		// ... or gets the lock once the holder releases it.
		go func() { time.Sleep(300 * time.Millisecond); _ = unlockA() }()
		unlockB, err := state.LockWait(b, "plan", "test", 10*time.Second, 100*time.Millisecond)
		if err != nil {
			t.Fatalf("state.LockWait after release: %v", err)
		}
		holder, leased, _, err := a.ReadLock()
		if err != nil || !leased || holder == nil || holder.Operation != "plan" {
			t.Fatalf("after B locked: holder %+v leased %v err %v", holder, leased, err)
		}
		if err := a.ForceUnlock("not-the-id"); err == nil || !strings.Contains(err.Error(), holder.ID) {
			t.Fatalf("force-unlock with a wrong id: %v", err)
		}
		if err := a.ForceUnlock(holder.ID); err != nil {
			t.Fatal(err)
		}
		if h, leased, _, _ := a.ReadLock(); leased || h != nil {
			t.Errorf("after force-unlock: leased %v holder %+v", leased, h)
		}
		if err := a.ForceUnlock(holder.ID); err == nil || !strings.Contains(err.Error(), "not locked") {
			t.Errorf("second force-unlock: %v", err)
		}
		// The broken holder cannot write any more, and its unlock says why.
		if _, err := b.Load(); err != nil {
			t.Fatal(err)
		}
		if err := b.Write(state.New()); err == nil {
			t.Fatal("the run whose lock was broken could still write")
		}
		_ = unlockB()
	})

	t.Run("write is conditional on the ETag read", func(t *testing.T) {
		t.Parallel()
		a := azureBlob(t, azureStore(t, srv, "etag", 0), state.DefaultWorkspace)
		b := azureBlob(t, azureStore(t, srv, "etag", 0), state.DefaultWorkspace)
		if err := a.Write(state.New()); err == nil {
			t.Fatal("write before load succeeded")
		}
		stA, err := a.Load()
		if err != nil {
			t.Fatal(err)
		}
		stB, err := b.Load()
		if err != nil {
			t.Fatal(err)
		}
		setOne(t, stB, "from-b")
		if err := b.Write(stB); err != nil {
			t.Fatal(err)
		}
		setOne(t, stA, "from-a")
		err = a.Write(stA)
		var ce *ConflictError
		if !errors.As(err, &ce) {
			t.Fatalf("stale write: %v, want *ConflictError", err)
		}
		if stA.Serial != 0 {
			t.Errorf("a refused write changed the serial to %d", stA.Serial)
		}
		got, err := a.Load()
		if err != nil {
			t.Fatal(err)
		}
		if got.Get("x.y").ID != "from-b" || got.Serial != 1 {
			t.Errorf("stored %+v serial %d; b's write was lost", got.Get("x.y"), got.Serial)
		}
		// After reading again, a's write goes through.
		setOne(t, got, "from-a")
		if err := a.Write(got); err != nil {
			t.Fatal(err)
		}
		// Over an existing blob too (If-Match, not only If-None-Match: *): b last read the
		// blob before a's write, so b's next write is refused and a's is kept.
		setOne(t, stB, "from-b-again")
		if err := b.Write(stB); !errors.As(err, &ce) {
			t.Fatalf("stale write over an existing blob: %v, want *ConflictError", err)
		}
		if got, err := a.Load(); err != nil || got.Get("x.y").ID != "from-a" {
			t.Errorf("after the refused write: %v %+v; a's write was lost", err, got)
		}
	})

	t.Run("no lost update when the lease is broken mid-run", func(t *testing.T) {
		t.Parallel()
		a := azureBlob(t, azureStore(t, srv, "broken", 0), state.DefaultWorkspace)
		b := azureBlob(t, azureStore(t, srv, "broken", 0), state.DefaultWorkspace)
		unlockA, err := a.Lock("apply", "test")
		if err != nil {
			t.Fatal(err)
		}
		stA, err := a.Load()
		if err != nil {
			t.Fatal(err)
		}
		holder, _, _, _ := b.ReadLock()
		if err := b.ForceUnlock(holder.ID); err != nil {
			t.Fatal(err)
		}
		unlockB, err := b.Lock("apply", "test")
		if err != nil {
			t.Fatal(err)
		}
		stB, _ := b.Load()
		setOne(t, stB, "from-b")
		if err := b.Write(stB); err != nil {
			t.Fatal(err)
		}
		if err := unlockB(); err != nil {
			t.Fatal(err)
		}
		// B released its lease: only the ETag stands between A and a lost update now.
		setOne(t, stA, "from-a")
		if err := a.Write(stA); err == nil {
			t.Fatal("a run whose lock was broken overwrote the next run's state")
		}
		_ = unlockA()
		got, _ := b.Load()
		if got.Get("x.y").ID != "from-b" {
			t.Errorf("state %+v, want b's", got.Get("x.y"))
		}
	})

	t.Run("every write keeps the previous state as a snapshot", func(t *testing.T) {
		t.Parallel()
		a := azureBlob(t, azureStore(t, srv, "snap", 0), state.DefaultWorkspace)
		unlock, err := a.Lock("apply", "test")
		if err != nil {
			t.Fatal(err)
		}
		st, err := a.Load()
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"one", "two", "three"} {
			setOne(t, st, id)
			if err := a.Write(st); err != nil {
				t.Fatal(err)
			}
		}
		if err := unlock(); err != nil {
			t.Fatal(err)
		}
		snaps, err := a.Snapshots()
		if err != nil {
			t.Fatal(err)
		}
		// The empty blob the lock created is not worth one: serials 1 and 2 are kept.
		if len(snaps) != 2 {
			t.Fatalf("%d snapshots, want 2: %+v", len(snaps), snaps)
		}
		for i, want := range []string{"one", "two"} {
			old, err := a.LoadSnapshot(snaps[i].ID)
			if err != nil {
				t.Fatal(err)
			}
			if old.Serial != uint64(i+1) || old.Get("x.y").ID != want {
				t.Errorf("snapshot %d: serial %d, %+v", i, old.Serial, old.Get("x.y"))
			}
		}
		cur, _ := a.Load()
		if cur.Serial != 3 || cur.Get("x.y").ID != "three" {
			t.Errorf("current serial %d %+v", cur.Serial, cur.Get("x.y"))
		}
	})

	t.Run("a killed holder's lease expires", func(t *testing.T) {
		t.Parallel()
		a := azureBlob(t, azureStore(t, srv, "expiry", 15*time.Second), state.DefaultWorkspace)
		b := azureBlob(t, azureStore(t, srv, "expiry", 15*time.Second), state.DefaultWorkspace)
		if _, err := a.Lock("apply", "test"); err != nil {
			t.Fatal(err)
		}
		// A killed process stops renewing and never releases.
		close(a.stopRenew)
		<-a.renewDone
		if _, err := b.Lock("apply", "test"); err == nil {
			t.Fatal("lock taken while the lease is active")
		}
		unlock, err := state.LockWait(b, "apply", "test", 25*time.Second, 500*time.Millisecond)
		if err != nil {
			t.Fatalf("the lease did not expire: %v", err)
		}
		holder, _, _, _ := b.ReadLock()
		if holder == nil || holder.Operation != "apply" || holder.ID != *ptrLease(b) {
			t.Errorf("holder after takeover %+v", holder)
		}
		_ = unlock()
	})

	t.Run("workspaces are key env:NAME blobs", func(t *testing.T) {
		t.Parallel()
		s := azureStore(t, srv, "workspaces", 0)
		for _, ws := range []string{state.DefaultWorkspace, "contoso", "fabrikam"} {
			b := azureBlob(t, s, ws)
			st, _ := b.Load()
			setOne(t, st, ws)
			if err := b.Write(st); err != nil {
				t.Fatal(err)
			}
		}
		if k := azureBlob(t, s, "contoso").Key(); k != "c4s/state.jsonenv:contoso" {
			t.Errorf("key %q", k)
		}
		names, err := s.Workspaces()
		if err != nil || strings.Join(names, ",") != "default,contoso,fabrikam" {
			t.Fatalf("workspaces %v %v", names, err)
		}
		if err := s.DeleteWorkspace("contoso"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteWorkspace(state.DefaultWorkspace); err == nil {
			t.Error("default workspace deleted")
		}
		if _, err := s.Workspace("../x"); err == nil {
			t.Error("a path as workspace name accepted")
		}
		// A workspace's history blob is not a workspace.
		if err := azureBlob(t, s, "fabrikam").AppendHistory([]byte(`{"n":1}`)); err != nil {
			t.Fatal(err)
		}
		if err := azureBlob(t, s, "fabrikam").AppendHistory([]byte(`{"n":2}`)); err != nil {
			t.Fatal(err)
		}
		if err := azureBlob(t, s, "fabrikam").AppendHistory([]byte("two\nlines")); err == nil {
			t.Error("a record with a newline was appended")
		}
		recs, err := azureBlob(t, s, "fabrikam").ReadHistory()
		if err != nil || len(recs) != 2 || string(recs[1]) != `{"n":2}` {
			t.Errorf("history %q %v", recs, err)
		}
		names, _ = s.Workspaces()
		if strings.Join(names, ",") != "default,fabrikam" {
			t.Errorf("after delete: %v", names)
		}
		got, _ := azureBlob(t, s, "fabrikam").Load()
		if got.Get("x.y").ID != "fabrikam" {
			t.Errorf("fabrikam state %+v", got.Get("x.y"))
		}
	})

	t.Run("a missing container is named", func(t *testing.T) {
		t.Parallel()
		a := azureBlob(t, azureStore(t, srv, "no-such-container", 0), state.DefaultWorkspace)
		_, err := a.Lock("plan", "test")
		if err == nil || !strings.Contains(err.Error(), `container "no-such-container" does not exist`) {
			t.Fatalf("got %v", err)
		}
	})
}

func ptrLease(a *Blob) *string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return &a.leaseID
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no key":         {StorageAccountName: "a", ContainerName: "c", AccessKey: "eA=="},
		"no credentials": {StorageAccountName: "a", ContainerName: "c", Key: "k"},
		"short lease":    {StorageAccountName: "a", ContainerName: "c", Key: "k", AccessKey: "eA==", LeaseDuration: 5 * time.Second},
		"bad endpoint":   {StorageAccountName: "a", ContainerName: "c", Key: "k", AccessKey: "eA==", Endpoint: "ftp://x"},
		// The SAS token rides in every request's query: plain http only on loopback (Azurite).
		"plain http off loopback": {StorageAccountName: "a", ContainerName: "c", Key: "k", SASToken: "sv=1&sig=eA%3D%3D", Endpoint: "http://a.blob.core.windows.net"},
		"bad access key":          {StorageAccountName: "a", ContainerName: "c", Key: "k", AccessKey: "not base64 %%"},
	} {
		if _, err := NewStore(cfg); err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.Contains(err.Error(), "%%") {
			t.Errorf("%s: the error repeats the key: %v", name, err)
		}
	}
}

// A transport error (nothing listening) does not print the SAS token's signature.
func TestSASTokenNeverInErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s, err := NewStore(Config{StorageAccountName: "acct", ContainerName: "c", Key: "k", Endpoint: "http://" + addr + "/acct",
		SASToken: "sv=2024-08-04&ss=b&sp=rwdl&sig=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.Workspace(state.DefaultWorkspace)
	for name, err := range map[string]error{"load": func() error { _, err := b.Load(); return err }(), "lock": func() error { _, err := b.Lock("plan", "t"); return err }()} {
		if err == nil {
			t.Fatalf("%s: no error with nothing listening", name)
		}
		if strings.Contains(err.Error(), "c2VjcmV0") || strings.Contains(err.Error(), "sig=") {
			t.Errorf("%s: the error shows the SAS signature: %v", name, err)
		}
		if !strings.Contains(err.Error(), addr) {
			t.Errorf("%s: the error does not say where: %v", name, err)
		}
	}
}
