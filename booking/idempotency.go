package booking

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/database"
)

// IdempotencyTTL is how long a response is kept for replay.
const IdempotencyTTL = 24 * time.Hour

// Idempotency makes a create replayable: the first request with a key
// stores its response in the same transaction as the change, and a retry
// with the same key gets that response instead of a second change. The
// claim is taken first in the transaction, so two concurrent requests with
// one key cannot both act: the second waits for the first (its insert
// blocks on the primary key) and then finds the key taken.
type Idempotency struct {
	Owner string // the caller (user id or "bootstrap")
	Key   string
	Hash  string // of the request (method, path, body)
	// Render turns the result into the HTTP status and body to store.
	Render func(*CreateResult) (int, []byte, error)
}

// IdempotentResponse is a stored response.
type IdempotentResponse struct {
	RequestHash string
	Status      int
	Response    string
	CreatedAt   time.Time
}

// ErrKeyInFlight reports that another request with the same key won the
// claim; look the key up again to replay its response.
var ErrKeyInFlight = perch.Errorf(perch.ECONFLICT, "A request with this Idempotency-Key is in progress; retry shortly.")

func (i *Idempotency) claim(tx *gorm.DB, now time.Time) error {
	// An expired record no longer binds the key.
	if err := tx.Exec("DELETE FROM idempotency_keys WHERE owner = ? AND key = ? AND created_at < ?",
		i.Owner, i.Key, now.Add(-IdempotencyTTL)).Error; err != nil {
		return err
	}
	err := tx.Exec("INSERT INTO idempotency_keys (owner, key, request_hash, status, response, created_at) VALUES (?, ?, ?, 0, '', ?)",
		i.Owner, i.Key, i.Hash, now).Error
	if database.IsUniqueViolation(err, "") {
		return ErrKeyInFlight
	}
	return err
}

func (i *Idempotency) complete(tx *gorm.DB, res *CreateResult) error {
	status, body, err := i.Render(res)
	if err != nil {
		return err
	}
	return tx.Exec("UPDATE idempotency_keys SET status = ?, response = ? WHERE owner = ? AND key = ?",
		status, string(body), i.Owner, i.Key).Error
}

// LookupIdempotent returns the live stored response for a key, or nil.
func (s *Service) LookupIdempotent(ctx context.Context, owner, key string) (*IdempotentResponse, error) {
	var rows []IdempotentResponse
	err := s.db.Conn(ctx).Table("idempotency_keys").Select("request_hash, status, response, created_at").
		Where("owner = ? AND key = ? AND created_at >= ?", owner, key, s.now().Add(-IdempotencyTTL)).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, database.Translate(err)
	}
	return &rows[0], nil
}

// SaveIdempotentFailure stores a refused request's response (a 4xx) so a
// retry gets the same answer. It never overwrites a stored response.
func (s *Service) SaveIdempotentFailure(ctx context.Context, owner, key, hash string, status int, body []byte) error {
	err := s.db.Conn(ctx).Exec(`INSERT INTO idempotency_keys (owner, key, request_hash, status, response, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (owner, key) DO NOTHING`, owner, key, hash, status, string(body), s.now()).Error
	return database.Translate(err)
}

// PurgeIdempotency deletes responses older than the TTL.
func (s *Service) PurgeIdempotency(ctx context.Context) (int64, error) {
	res := s.db.Conn(ctx).Exec("DELETE FROM idempotency_keys WHERE created_at < ?", s.now().Add(-IdempotencyTTL))
	return res.RowsAffected, database.Translate(res.Error)
}
