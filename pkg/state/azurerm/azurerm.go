// Package azurerm is the `backend "azurerm"` state backend: states as blobs in an Azure Storage
// container, built on the Azure SDK for Go (azblob). It is a package of its own so that the
// engine's pkg/state stays free of cloud SDKs.
package azurerm

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/appendblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"
	"github.com/c4sctl/c4sctl/pkg/httpx"
	"github.com/c4sctl/c4sctl/pkg/state"
)

// Config is the `backend "azurerm"` block, with Terraform's argument names
// (hashicorp/terraform internal/backend/remote-state/azure/backend.go), and the secrets that
// only the environment may give.
type Config struct {
	StorageAccountName string
	ContainerName      string
	// Key is the blob name of the default workspace's state; another workspace's is
	// KEY + "env:" + NAME (Terraform's convention).
	Key string
	// UseAzureADAuth signs in with Microsoft Entra ID (azidentity's default chain: environment,
	// workload identity, managed identity, Azure CLI) instead of a key or SAS.
	UseAzureADAuth bool
	// Endpoint is the blob service URL including the account where the host does not name it
	// (Azurite: http://127.0.0.1:10000/devstoreaccount1); default
	// https://STORAGE_ACCOUNT_NAME.blob.core.windows.net.
	Endpoint string
	// AccessKey (ARM_ACCESS_KEY) and SASToken (ARM_SAS_TOKEN) come from the environment only.
	AccessKey string
	SASToken  string
	// LeaseDuration is the lock's blob lease (15 to 60 s, Lease Blob REST API); 0 means 60 s.
	// The lease is renewed every third of it while the run holds the lock, so a killed run's
	// lock frees itself at most LeaseDuration later.
	LeaseDuration time.Duration
	// HTTPClient carries the requests (nil: azcore's default transport).
	HTTPClient *http.Client
	// MaxRetries of a failed request (0: 3; below 0: none).
	MaxRetries int32
}

// lockMetaKey is the blob metadata entry holding the lock holder's LockInfo as base64 JSON
// (Terraform's azurerm backend keeps its own in "terraformlockid"). Metadata names must be
// valid C# identifiers and are case-insensitive; lower case keeps them as sent.
const lockMetaKey = "c4sctllock"

// envPrefix separates a workspace name from the key, as Terraform's keyEnvPrefix.
const envPrefix = "env:"

// Store is the states of one configuration in an Azure Storage blob container.
type Store struct {
	cfg       Config
	container *container.Client
}

// NewStore checks cfg and builds its clients (no request is sent).
func NewStore(cfg Config) (*Store, error) {
	if cfg.StorageAccountName == "" || cfg.ContainerName == "" || cfg.Key == "" {
		return nil, fmt.Errorf(`backend "azurerm" needs storage_account_name, container_name and key`)
	}
	if cfg.LeaseDuration == 0 {
		cfg.LeaseDuration = 60 * time.Second
	}
	if cfg.LeaseDuration < 15*time.Second || cfg.LeaseDuration > 60*time.Second {
		return nil, fmt.Errorf("lease duration %s: a blob lease lasts 15 to 60 seconds", cfg.LeaseDuration)
	}
	endpoint := strings.TrimRight(cfg.Endpoint, "/")
	if endpoint == "" {
		endpoint = "https://" + cfg.StorageAccountName + ".blob.core.windows.net"
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("backend azurerm: endpoint %q is not an http(s) URL", httpx.RedactURLString(cfg.Endpoint))
	}
	// The same rule as the providers' endpoints: a SAS token rides in every request's query, a
	// bearer token or a Shared Key signature in its headers; plain http only on loopback (Azurite).
	if err := httpx.CheckEndpoint(endpoint); err != nil {
		return nil, fmt.Errorf("backend azurerm: %w", err)
	}
	containerURL := endpoint + "/" + url.PathEscape(cfg.ContainerName)
	opts := &container.ClientOptions{}
	if cfg.HTTPClient != nil {
		opts.Transport = cfg.HTTPClient
	}
	// Few, quick retries: a run waiting on the lock retries by itself, and a state write that
	// fails is reported, not hidden.
	retries := cfg.MaxRetries
	if retries == 0 {
		retries = 3
	}
	opts.Retry = policy.RetryOptions{MaxRetries: retries, RetryDelay: 500 * time.Millisecond, MaxRetryDelay: 4 * time.Second}
	var c *container.Client
	switch {
	case cfg.UseAzureADAuth:
		cred, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return nil, fmt.Errorf("backend azurerm: use_azuread_auth: %w", err)
		}
		c, err = container.NewClient(containerURL, cred, opts)
		if err != nil {
			return nil, fmt.Errorf("backend azurerm: %w", err)
		}
	case cfg.AccessKey != "":
		cred, err := container.NewSharedKeyCredential(cfg.StorageAccountName, cfg.AccessKey)
		if err != nil {
			// The SDK's message would quote nothing secret, but say only what is wrong.
			return nil, fmt.Errorf("backend azurerm: ARM_ACCESS_KEY is not a base64 storage account key")
		}
		c, err = container.NewClientWithSharedKeyCredential(containerURL, cred, opts)
		if err != nil {
			return nil, fmt.Errorf("backend azurerm: %w", err)
		}
	case cfg.SASToken != "":
		c, err = container.NewClientWithNoCredential(containerURL+"?"+strings.TrimPrefix(cfg.SASToken, "?"), opts)
		if err != nil {
			return nil, fmt.Errorf("backend azurerm: the SAS token in ARM_SAS_TOKEN does not form a valid URL")
		}
	default:
		return nil, fmt.Errorf(`backend "azurerm" has no credentials: set use_azuread_auth = true, or ARM_ACCESS_KEY or ARM_SAS_TOKEN in the environment`)
	}
	cfg.Endpoint = endpoint
	return &Store{cfg: cfg, container: c}, nil
}

func (s *Store) String() string {
	return fmt.Sprintf("azurerm (container %s of %s)", s.cfg.ContainerName, s.cfg.Endpoint)
}

func (s *Store) key(name string) string {
	if name == state.DefaultWorkspace {
		return s.cfg.Key
	}
	return s.cfg.Key + envPrefix + name
}

// Workspace returns the backend of one workspace's blob.
func (s *Store) Workspace(name string) (state.Backend, error) {
	if name != state.DefaultWorkspace {
		if err := state.ValidWorkspace(name); err != nil {
			return nil, err
		}
	}
	return s.blob(s.key(name)), nil
}

func (s *Store) blob(key string) *Blob {
	return &Blob{store: s, key: key, bb: s.container.NewBlockBlobClient(key)}
}

// Workspaces lists the blobs named KEY + "env:" + NAME, as Terraform's azurerm backend does.
func (s *Store) Workspaces() ([]string, error) {
	ctx, cancel := opContext()
	defer cancel()
	prefix := s.cfg.Key + envPrefix
	names := []string{}
	pager := s.container.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &prefix})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, s.explain(err, "list workspaces")
		}
		for _, b := range page.Segment.BlobItems {
			if b.Name == nil {
				continue
			}
			// KEYenv:NAME.history.jsonl is NAME's history, not a workspace.
			if n := strings.TrimPrefix(*b.Name, prefix); state.ValidWorkspace(n) == nil && !strings.HasSuffix(n, historySuffix) {
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	return append([]string{state.DefaultWorkspace}, names...), nil
}

// DeleteWorkspace deletes a workspace's blob and its snapshots; a locked one is refused
// (LeaseIdMissing).
func (s *Store) DeleteWorkspace(name string) error {
	if name == state.DefaultWorkspace {
		return fmt.Errorf("the default workspace cannot be deleted")
	}
	if err := state.ValidWorkspace(name); err != nil {
		return err
	}
	ctx, cancel := opContext()
	defer cancel()
	_, err := s.container.NewBlobClient(s.key(name)).Delete(ctx, &blob.DeleteOptions{DeleteSnapshots: to.Ptr(blob.DeleteSnapshotsOptionTypeInclude)})
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		return fmt.Errorf("workspace %q does not exist", name)
	}
	if bloberror.HasCode(err, bloberror.LeaseIDMissing) {
		return fmt.Errorf("workspace %q is locked by a run in progress; not deleted", name)
	}
	if err != nil {
		return s.explain(err, "delete workspace "+name)
	}
	_, err = s.container.NewBlobClient(s.key(name)+historySuffix).Delete(ctx, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound) {
		return s.explain(err, "delete the history of workspace "+name)
	}
	return nil
}

// explain turns an SDK error into one line that names the container and what to do; the
// SDK's own text (which may hold a request URL, never a key) is kept at the end.
func (s *Store) explain(err error, what string) error {
	switch {
	case bloberror.HasCode(err, bloberror.ContainerNotFound):
		return fmt.Errorf("%s: the container %q does not exist in %s; create it first (c4sctl does not create it)", what, s.cfg.ContainerName, s.cfg.Endpoint)
	case bloberror.HasCode(err, bloberror.AuthenticationFailed, bloberror.AuthorizationFailure, bloberror.AuthorizationPermissionMismatch):
		return fmt.Errorf("%s: %s refused the credentials (check ARM_ACCESS_KEY / ARM_SAS_TOKEN or the identity's Storage Blob Data Contributor role): %w", what, s.cfg.Endpoint, shortErr(err))
	}
	return fmt.Errorf("%s: %w", what, shortErr(err))
}

// shortErr keeps the storage error code and status of an azcore.ResponseError, dropping the
// multi-line dump of the response; a transport error keeps its URL without the query, which
// holds the SAS token's signature when ARM_SAS_TOKEN is used.
func shortErr(err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return fmt.Errorf("%s (HTTP %d)", re.ErrorCode, re.StatusCode)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		u := ue.URL
		if i := strings.IndexByte(u, '?'); i >= 0 {
			u = u[:i] + "?(query hidden)"
		}
		return fmt.Errorf("%s %s: %v", ue.Op, u, ue.Err)
	}
	return err
}

// opContext bounds one storage operation. Operations do not take the command's context: an
// interrupted apply still saves its state.
func opContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 60*time.Second)
}

// Blob is one workspace's state blob. Its lock is a lease on that blob, so that while a run
// holds it the service refuses every write without the lease id; writes are conditional on the
// ETag read by Load, and each write first snapshots the previous state.
type Blob struct {
	store *Store
	key   string
	bb    *blockblob.Client

	mu sync.Mutex
	// loaded is set by Load; etag is the blob's ETag then (nil: there was no blob).
	loaded bool
	etag   *azcore.ETag
	// size of the blob when read: 0 means there is nothing worth a snapshot.
	size int64
	// leaseID is set while this process holds the lock; meta is the blob metadata to keep on
	// every write (the lock holder entry included).
	leaseID string
	meta    map[string]*string
	// lost is set when a renewal found the lease gone (broken by force-unlock, or expired).
	lost      error
	stopRenew chan struct{}
	renewDone chan struct{}
}

func (a *Blob) String() string {
	return fmt.Sprintf("azurerm blob %s/%s (%s)", a.store.cfg.ContainerName, a.key, a.store.cfg.Endpoint)
}

// Key is the blob name.
func (a *Blob) Key() string { return a.key }

// ConflictError is returned by Write when the blob is not what Load read: another run wrote it
// (after this run's lease was broken) or it was changed by hand.
type ConflictError struct{ Where string }

func (e *ConflictError) Error() string {
	return "the state in " + e.Where + " changed since this run read it (ETag mismatch, ConditionNotMet): not overwriting it. " +
		"Another run wrote it, probably after this run's lock was broken with force-unlock. Run plan again to see the current state."
}

// Load downloads the blob; no blob or an empty one (created by Lock) is a new empty state.
func (a *Blob) Load() (*state.State, error) {
	ctx, cancel := opContext()
	defer cancel()
	resp, err := a.bb.DownloadStream(ctx, nil)
	a.mu.Lock()
	defer a.mu.Unlock()
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		a.loaded, a.etag, a.size = true, nil, 0
		return state.New(), nil
	}
	if err != nil {
		return nil, a.store.explain(err, "read state "+a.key)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read state %s: %w", a.key, err)
	}
	a.loaded, a.etag, a.size = true, resp.ETag, int64(len(b))
	if len(bytes.TrimSpace(b)) == 0 {
		return state.New(), nil
	}
	return state.Decode(a.String(), b)
}

// Write snapshots the current blob, then uploads s with If-Match on the ETag Load saw (or
// If-None-Match: * when there was no blob) and the lease id when locked.
func (a *Blob) Write(s *state.State) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.loaded {
		return fmt.Errorf("write state %s: the state was not read first, so a concurrent change could not be detected; not writing", a.key)
	}
	if a.lost != nil {
		return fmt.Errorf("write state %s: %w", a.key, a.lost)
	}
	s.Serial++
	b, err := state.Encode(s)
	if err != nil {
		s.Serial--
		return err
	}
	ctx, cancel := opContext()
	defer cancel()
	cond := &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{}}
	if a.etag != nil {
		cond.ModifiedAccessConditions.IfMatch = a.etag
	} else {
		cond.ModifiedAccessConditions.IfNoneMatch = to.Ptr(azcore.ETagAny)
	}
	if a.leaseID != "" {
		cond.LeaseAccessConditions = &blob.LeaseAccessConditions{LeaseID: to.Ptr(a.leaseID)}
	}
	if a.etag != nil && a.size > 0 {
		// The previous version stays as a snapshot (works with or without account blob
		// versioning, and on Azurite, which has no versioning before 3.38).
		if _, err := a.bb.CreateSnapshot(ctx, &blob.CreateSnapshotOptions{AccessConditions: cond, Metadata: a.meta}); err != nil {
			s.Serial--
			return a.writeErr(err)
		}
	}
	resp, err := a.bb.Upload(ctx, nopSeekCloser(b), &blockblob.UploadOptions{
		Metadata:         a.meta,
		HTTPHeaders:      &blob.HTTPHeaders{BlobContentType: to.Ptr("application/json")},
		AccessConditions: cond,
	})
	if err != nil {
		s.Serial--
		return a.writeErr(err)
	}
	a.etag, a.size = resp.ETag, int64(len(b))
	return nil
}

func (a *Blob) writeErr(err error) error {
	switch {
	case bloberror.HasCode(err, bloberror.ConditionNotMet, bloberror.BlobAlreadyExists):
		return &ConflictError{Where: a.String()}
	case bloberror.HasCode(err, bloberror.LeaseIDMissing):
		return fmt.Errorf("write state %s: another run holds the lock (LeaseIdMissing): not writing", a.key)
	case bloberror.HasCode(err, bloberror.LeaseIDMismatchWithBlobOperation, bloberror.LeaseNotPresentWithBlobOperation, bloberror.LeaseLost):
		return fmt.Errorf("write state %s: this run's lock was broken (force-unlock) or expired: not writing; run plan again", a.key)
	}
	return a.store.explain(err, "write state "+a.key)
}

// Lock acquires a lease on the blob (created empty if missing), records the holder in the blob's
// metadata and renews the lease in the background until unlock.
func (a *Blob) Lock(operation, version string) (func() error, error) {
	ctx, cancel := opContext()
	defer cancel()
	// The lease needs a blob: create an empty one unless there is one already.
	_, err := a.bb.Upload(ctx, nopSeekCloser(nil), &blockblob.UploadOptions{
		HTTPHeaders:      &blob.HTTPHeaders{BlobContentType: to.Ptr("application/json")},
		AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}},
	})
	if err != nil && !bloberror.HasCode(err, bloberror.BlobAlreadyExists, bloberror.ConditionNotMet, bloberror.LeaseIDMissing) {
		return nil, a.store.explain(err, "lock state "+a.key)
	}
	info := state.NewLockInfo(operation, version)
	lc, err := lease.NewBlobClient(a.bb, &lease.BlobClientOptions{LeaseID: to.Ptr(info.ID)})
	if err != nil {
		return nil, fmt.Errorf("lock state %s: %w", a.key, err)
	}
	secs := int32(a.store.cfg.LeaseDuration / time.Second)
	if _, err := lc.AcquireLease(ctx, secs, nil); err != nil {
		if bloberror.HasCode(err, bloberror.LeaseAlreadyPresent) {
			return nil, a.lockedError(ctx)
		}
		return nil, a.store.explain(err, "lock state "+a.key)
	}
	release := func() { _, _ = lc.ReleaseLease(context.Background(), nil) }
	props, err := a.bb.GetProperties(ctx, nil)
	if err != nil {
		release()
		return nil, a.store.explain(err, "lock state "+a.key)
	}
	meta := map[string]*string{}
	for k, v := range props.Metadata {
		if !strings.EqualFold(k, lockMetaKey) {
			meta[k] = v
		}
	}
	raw, _ := json.Marshal(info)
	meta[lockMetaKey] = to.Ptr(base64.StdEncoding.EncodeToString(raw))
	if _, err := a.bb.SetMetadata(ctx, meta, &blob.SetMetadataOptions{AccessConditions: &blob.AccessConditions{LeaseAccessConditions: &blob.LeaseAccessConditions{LeaseID: to.Ptr(info.ID)}}}); err != nil {
		release()
		return nil, a.store.explain(err, "lock state "+a.key)
	}
	a.mu.Lock()
	a.leaseID, a.meta, a.lost = info.ID, meta, nil
	a.stopRenew, a.renewDone = make(chan struct{}), make(chan struct{})
	a.mu.Unlock()
	go a.renew(lc, a.stopRenew, a.renewDone)
	var once sync.Once
	var uerr error
	return func() error {
		once.Do(func() { uerr = a.unlock(lc) })
		return uerr
	}, nil
}

// renew keeps the lease for as long as the run holds the lock: every third of the duration, so
// that two failed renewals in a row still leave time for a third.
func (a *Blob) renew(lc *lease.BlobClient, stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(a.store.cfg.LeaseDuration / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), a.store.cfg.LeaseDuration/3)
			_, err := lc.RenewLease(ctx, nil)
			cancel()
			if bloberror.HasCode(err, bloberror.LeaseIDMismatchWithLeaseOperation, bloberror.LeaseNotPresentWithLeaseOperation, bloberror.LeaseLost, bloberror.LeaseIsBrokenAndCannotBeRenewed, bloberror.BlobNotFound) {
				a.mu.Lock()
				a.lost = fmt.Errorf("this run's lock (lease %s) was broken by force-unlock or taken over: the state is no longer this run's to write", *lc.LeaseID())
				a.mu.Unlock()
				return
			}
			// Other errors (network) are retried at the next tick; the lease outlives two misses.
		}
	}
}

// unlock stops renewing, removes the holder entry and releases the lease.
func (a *Blob) unlock(lc *lease.BlobClient) error {
	a.mu.Lock()
	stop, done := a.stopRenew, a.renewDone
	meta, lost := a.meta, a.lost
	a.mu.Unlock()
	close(stop)
	<-done
	a.mu.Lock()
	a.leaseID, a.meta = "", nil
	a.mu.Unlock()
	if lost != nil {
		return fmt.Errorf("unlock state %s: %w", a.key, lost)
	}
	ctx, cancel := opContext()
	defer cancel()
	clean := map[string]*string{}
	for k, v := range meta {
		if k != lockMetaKey {
			clean[k] = v
		}
	}
	cond := &blob.AccessConditions{LeaseAccessConditions: &blob.LeaseAccessConditions{LeaseID: lc.LeaseID()}}
	if _, err := a.bb.SetMetadata(ctx, clean, &blob.SetMetadataOptions{AccessConditions: cond}); err != nil {
		return fmt.Errorf("unlock state %s: %w (the lease expires by itself within %s)", a.key, shortErr(err), a.store.cfg.LeaseDuration)
	}
	if _, err := lc.ReleaseLease(ctx, nil); err != nil {
		return fmt.Errorf("unlock state %s: %w (the lease expires by itself within %s)", a.key, shortErr(err), a.store.cfg.LeaseDuration)
	}
	return nil
}

// ReadLock returns the holder recorded in the blob's metadata and whether the blob is leased
// now. The entry outlives a lease that expired (a killed run); it is meaningful only while leased.
func (a *Blob) ReadLock() (holder *state.LockInfo, leased bool, etag *azcore.ETag, err error) {
	ctx, cancel := opContext()
	defer cancel()
	props, err := a.bb.GetProperties(ctx, nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		return nil, false, nil, nil
	}
	if err != nil {
		return nil, false, nil, a.store.explain(err, "read state lock "+a.key)
	}
	leased = props.LeaseState != nil && *props.LeaseState == lease.StateTypeLeased
	for k, v := range props.Metadata {
		if strings.EqualFold(k, lockMetaKey) && v != nil {
			raw, derr := base64.StdEncoding.DecodeString(*v)
			var info state.LockInfo
			if derr == nil && json.Unmarshal(raw, &info) == nil {
				holder = &info
			}
		}
	}
	return holder, leased, props.ETag, nil
}

func (a *Blob) lockedError(ctx context.Context) error {
	holder, _, _, err := a.ReadLock()
	if err != nil || holder == nil {
		// Leased by something that wrote no holder entry (a run killed between the two
		// requests, or another tool).
		return &state.LockedError{Path: a.String(), Holder: state.LockInfo{ID: "(unknown: the lease has no holder entry)", Operation: "unknown", Who: "unknown"},
			Lease: a.store.cfg.LeaseDuration}
	}
	return &state.LockedError{Path: a.String(), Holder: *holder, Stale: state.IsStale(*holder), Lease: a.store.cfg.LeaseDuration}
}

// ForceUnlock breaks the lease (break period 0: at once) when the recorded holder's id is id,
// then removes the holder entry. The holder's next write fails (lease and ETag conditions).
func (a *Blob) ForceUnlock(id string) error {
	holder, leased, _, err := a.ReadLock()
	if err != nil {
		return err
	}
	if !leased {
		return fmt.Errorf("the state %s is not locked", a)
	}
	if holder != nil && !strings.EqualFold(holder.ID, id) {
		return fmt.Errorf("the lock's id is %s, not %s: nothing was unlocked", holder.ID, id)
	}
	if holder == nil && id != "" {
		return fmt.Errorf("the lease on %s has no holder entry; run force-unlock with an empty id (\"\") to break it", a)
	}
	ctx, cancel := opContext()
	defer cancel()
	lc, err := lease.NewBlobClient(a.bb, nil)
	if err != nil {
		return err
	}
	if _, err := lc.BreakLease(ctx, &lease.BlobBreakOptions{BreakPeriod: to.Ptr(int32(0))}); err != nil {
		return a.store.explain(err, "force-unlock "+a.key)
	}
	// Remove the stale holder entry; conditional on the ETag just read after the break, so a
	// new holder's entry is never removed.
	props, err := a.bb.GetProperties(ctx, nil)
	if err == nil && props.LeaseState != nil && *props.LeaseState != lease.StateTypeLeased {
		clean := map[string]*string{}
		for k, v := range props.Metadata {
			if !strings.EqualFold(k, lockMetaKey) {
				clean[k] = v
			}
		}
		_, _ = a.bb.SetMetadata(ctx, clean, &blob.SetMetadataOptions{AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: props.ETag}}})
	}
	return nil
}

// Snapshot is one earlier version of the state blob.
type Snapshot struct {
	// ID is the snapshot's timestamp as the service names it (RFC 3339, 7 fractional digits).
	ID   string
	Size int64
}

// Snapshots lists the blob's snapshots, oldest first.
func (a *Blob) Snapshots() ([]Snapshot, error) {
	ctx, cancel := opContext()
	defer cancel()
	pager := a.store.container.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &a.key, Include: container.ListBlobsInclude{Snapshots: true}})
	var out []Snapshot
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, a.store.explain(err, "list snapshots of "+a.key)
		}
		for _, b := range page.Segment.BlobItems {
			if b.Name == nil || *b.Name != a.key || b.Snapshot == nil || *b.Snapshot == "" {
				continue
			}
			sn := Snapshot{ID: *b.Snapshot}
			if b.Properties != nil && b.Properties.ContentLength != nil {
				sn.Size = *b.Properties.ContentLength
			}
			out = append(out, sn)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// LoadSnapshot reads one snapshot's state.
func (a *Blob) LoadSnapshot(id string) (*state.State, error) {
	c, err := a.bb.WithSnapshot(id)
	if err != nil {
		return nil, err
	}
	ctx, cancel := opContext()
	defer cancel()
	resp, err := c.DownloadStream(ctx, nil)
	if err != nil {
		return nil, a.store.explain(err, "read snapshot "+id+" of "+a.key)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return state.New(), nil
	}
	return state.Decode(a.String()+" snapshot "+id, b)
}

// historyKey is the append blob beside the state blob that holds its history (one JSON line
// a record).
func (a *Blob) historyKey() string { return a.key + historySuffix }

const historySuffix = ".history.jsonl"

// AppendHistory appends one record to the history append blob, creating it when missing
// (If-None-Match: *, so two runs never truncate each other's).
func (a *Blob) AppendHistory(record []byte) error {
	if err := state.CheckHistoryRecord(record); err != nil {
		return err
	}
	ctx, cancel := opContext()
	defer cancel()
	ab := a.store.container.NewAppendBlobClient(a.historyKey())
	_, err := ab.Create(ctx, &appendblob.CreateOptions{
		HTTPHeaders:      &blob.HTTPHeaders{BlobContentType: to.Ptr("application/x-ndjson")},
		AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}},
	})
	if err != nil && !bloberror.HasCode(err, bloberror.BlobAlreadyExists, bloberror.ConditionNotMet) {
		return a.store.explain(err, "create history "+a.historyKey())
	}
	line := append(append([]byte(nil), record...), '\n')
	if _, err := ab.AppendBlock(ctx, nopSeekCloser(line), nil); err != nil {
		return a.store.explain(err, "append history "+a.historyKey())
	}
	return nil
}

// ReadHistory downloads the history append blob.
func (a *Blob) ReadHistory() ([][]byte, error) {
	ctx, cancel := opContext()
	defer cancel()
	resp, err := a.store.container.NewBlobClient(a.historyKey()).DownloadStream(ctx, nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, a.store.explain(err, "read history "+a.historyKey())
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return state.SplitHistory(b), nil
}

type readSeekNopCloser struct{ *bytes.Reader }

func (readSeekNopCloser) Close() error { return nil }

func nopSeekCloser(b []byte) readSeekNopCloser { return readSeekNopCloser{bytes.NewReader(b)} }
