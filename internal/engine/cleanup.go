package engine

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"

	"github.com/dcrconform/dcrconform/internal/catalogue"
	"github.com/dcrconform/dcrconform/internal/judge"
	"github.com/dcrconform/dcrconform/internal/request"
)

// LeftClient is a client the run registered and could not delete.
type LeftClient struct {
	ClientID string `json:"client_id"`
	Reason   string `json:"reason"`
}

// CleanupResult is what the end-of-run cleanup did: a real sandbox must not fill up with the
// clients every run registers.
type CleanupResult struct {
	Deleted []string     `json:"deleted"`
	Left    []LeftClient `json:"left,omitempty"`
}

// Cleanup deletes every client the run registered (in any case, the control registration
// included) and has not deleted since: a client_credentials token for it, then DELETE
// /register/{ClientId}. Where the target does not offer DELETE, or a deletion fails, the client
// is listed as left behind with the reason, for the report and the manifest. It runs after
// the cases, also when they failed or the run was interrupted, under its own context.
func (env *Env) Cleanup(ctx context.Context) CleanupResult {
	return env.CleanupParallel(ctx, 1)
}

// CleanupParallel is Cleanup with up to par deletions in flight: against a slow bank the
// clients of a run would otherwise be deleted one round trip pair at a time. The result lists
// clients in ID order whatever the order they were deleted in.
func (env *Env) CleanupParallel(ctx context.Context, par int) CleanupResult {
	env.mu.Lock()
	var pending []string
	for id, deleted := range env.clients {
		if !deleted {
			pending = append(pending, id)
		}
	}
	env.mu.Unlock()
	sort.Strings(pending)
	if par < 1 {
		par = 1
	}
	why := make([]string, len(pending))
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i, id := range pending {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			why[i] = env.deleteClient(ctx, id)
		}()
	}
	wg.Wait()
	res := CleanupResult{Deleted: []string{}}
	for i, id := range pending {
		if why[i] != "" {
			res.Left = append(res.Left, LeftClient{ClientID: id, Reason: why[i]})
			continue
		}
		res.Deleted = append(res.Deleted, id)
	}
	return res
}

// deleteClient deletes one client, returning why it could not ("" when it did).
func (env *Env) deleteClient(ctx context.Context, id string) string {
	if !env.Caps[catalogue.ManageDelete] || !env.Caps[catalogue.TokenEndpoint] {
		return "the target does not offer DELETE /register/{ClientId} (or a token endpoint) by its config"
	}
	if ctx.Err() != nil {
		return "the cleanup was cut short: " + ctx.Err().Error()
	}
	p := env.Identity.Profile
	exs, err := env.call(ctx, func(d *request.Draft, idn *request.Identity) error {
		d.AsTokenRequest(idn, id)
		return nil
	}, 1)
	if err != nil {
		return "could not build the token request: " + err.Error()
	}
	tok := exs[0].Secret("access_token")
	if tok == "" {
		return "no token for it: " + judge.Answer(p, exs[0])
	}
	exs, err = env.call(ctx, func(d *request.Draft, idn *request.Identity) error {
		d.AsManagement(idn, http.MethodDelete, id, tok)
		return nil
	}, 1)
	if err != nil {
		return "could not build the DELETE request: " + err.Error()
	}
	if r := exs[0].Response; r == nil || r.Status != http.StatusNoContent && r.Status != http.StatusOK {
		return fmt.Sprintf("DELETE was answered %s", judge.Answer(p, exs[0]))
	}
	return ""
}
