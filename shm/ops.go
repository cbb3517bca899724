package shm

import (
	"context"
	"fmt"
	"time"
	"unsafe"
)

// keyRequest makes a request for key; begin checks it (checkRequest).
func keyRequest(method Method, key string) Message {
	// The request only reads its key, so it may share the string's bytes.
	kb := unsafe.Slice(unsafe.StringData(key), len(key))
	return Message{Kind: KindRequest, Method: method, Key: kb, Has: HasKey}
}

// withValue sets a request's value, compacting it if it is not one line.
func withValue(req *Message, bit uint16, v Value) error {
	if v == nil {
		return errorf(ErrBadRequest, "missing value (use shm.Null for JSON null)")
	}
	req.Has |= bit
	if bit == HasOld {
		req.Old = v
	} else {
		req.Value = v
	}
	return nil
}

// Get returns the value stored under key; found is false if there is none.
func (c *Client) Get(ctx context.Context, key string) (v Value, found bool, err error) {
	req := keyRequest(MethodGet, key)
	rep, err := c.do(ctx, &req, true)
	if err != nil {
		return nil, false, err
	}
	return rep.Value, rep.Has&HasValue != 0, nil
}

// Set stores v under key, with no expiry.
func (c *Client) Set(ctx context.Context, key string, v Value) error {
	return c.SetTTL(ctx, key, v, 0)
}

// SetTTL stores v under key; it expires after ttl (whole milliseconds;
// zero means never).
func (c *Client) SetTTL(ctx context.Context, key string, v Value, ttl time.Duration) error {
	req := keyRequest(MethodSet, key)
	err := withValue(&req, HasValue, v)
	if err == nil {
		err = withTTL(&req, ttl)
	}
	if err != nil {
		return err
	}
	_, err = c.do(ctx, &req, false)
	return err
}

func withTTL(req *Message, ttl time.Duration) error {
	if ttl == 0 {
		return nil
	}
	if ttl < time.Millisecond {
		return errorf(ErrBadRequest, "ttl %v is below the 1ms resolution", ttl)
	}
	req.TTL, req.Has = ttl.Milliseconds(), req.Has|HasTTL
	return nil
}

// Delete removes key and reports whether it was there.
func (c *Client) Delete(ctx context.Context, key string) (bool, error) {
	req := keyRequest(MethodDelete, key)
	return c.boolCall(ctx, &req)
}

// CAS stores v under key if the current value equals old (compared as
// compact JSON text). A nil old means "only if key is absent". It reports
// whether it stored v.
func (c *Client) CAS(ctx context.Context, key string, old, v Value) (bool, error) {
	req := keyRequest(MethodCAS, key)
	var err error
	if old != nil {
		err = withValue(&req, HasOld, old)
	}
	if err == nil {
		err = withValue(&req, HasValue, v)
	}
	if err != nil {
		return false, err
	}
	return c.boolCall(ctx, &req)
}

func (c *Client) boolCall(ctx context.Context, req *Message) (bool, error) {
	rep, err := c.do(ctx, req, true)
	if err != nil {
		return false, err
	}
	return string(rep.Value) == "true", nil
}

// Add adds delta to the integer under key (a missing key counts as 0) and
// returns the new value, atomically: the article's plusOne, done right.
func (c *Client) Add(ctx context.Context, key string, delta int64) (int64, error) {
	req := keyRequest(MethodAdd, key)
	req.Delta, req.Has = delta, req.Has|HasDelta
	rep, err := c.do(ctx, &req, true)
	if err != nil {
		return 0, err
	}
	return replyInt(rep)
}

func replyInt(rep Message) (int64, error) {
	n, ok := parseInt(rep.Value)
	if !ok {
		return 0, errorf(ErrBadReply, "master replied %.40q, want an integer", rep.Value) // fits has already refused it
	}
	return n, nil
}

// Len returns the number of live entries.
func (c *Client) Len(ctx context.Context) (int, error) {
	req := Message{Kind: KindRequest, Method: MethodLen}
	rep, err := c.do(ctx, &req, true)
	if err != nil {
		return 0, err
	}
	n, err := replyInt(rep)
	return int(n), err
}

// Keys returns the live keys in sorted order. A store of more than
// MaxKeysListed entries, or of keys whose list would not fit in a frame,
// answers a definite ErrTooLarge instead.
func (c *Client) Keys(ctx context.Context) ([]string, error) {
	req := Message{Kind: KindRequest, Method: MethodKeys}
	rep, err := c.do(ctx, &req, true)
	if err != nil {
		return nil, err
	}
	var keys []string
	if err := rep.Value.Unmarshal(&keys); err != nil {
		return nil, fmt.Errorf("shm: keys reply: %w", err)
	}
	return keys, nil
}
