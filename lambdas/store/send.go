package store

// Growing delays between the codes sent to one recipient:
//
//	send schedule   pk=SEND#<recipientKey>   sk=SEND   n, last, day, dn, ver, expiresAt (TTL)
//
// n counts the sends since the schedule last started (first send, a reset, or 24 h without a
// send), last is the time of the last send, day and dn the start of the current 24-hour window
// and the sends in it, ver a version every write raises. The item expires 24 h after the last
// send, which starts the schedule afresh; a reset expires it at once.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	sendPrefix = "SEND#"
	sendSK     = "SEND"

	attrSendCount = "n"
	attrSendLast  = "last"
	attrSendDay   = "day"
	attrSendDayN  = "dn"
	attrVersion   = "ver"

	// SendWindow is the window of SendSchedule.DailyCap, and how long a schedule is kept after
	// its last send.
	SendWindow = 24 * time.Hour
	// MaxSendDelays caps the number of delays in a SendSchedule.
	MaxSendDelays = 20
	// MaxSendDailyCap caps SendSchedule.DailyCap.
	MaxSendDailyCap = 10000

	// sendAttempts bounds the reads and writes of one TrySend. An attempt fails only when
	// another write to the schedule came between its read and its write, and only a reset or
	// an allowed send writes (a refused send does not), so the bound is reached only when
	// resets keep coming.
	sendAttempts = 8
)

// SendSchedule says when codes may be sent to one recipient.
type SendSchedule struct {
	// Delays are the minimum waits before the 2nd, 3rd, ... send after the previous one; the
	// last one repeats. 1 to MaxSendDelays whole seconds, each from 1 s to SendWindow.
	Delays []time.Duration
	// DailyCap caps the sends per window of SendWindow that begins with the window's first
	// send; 1 to MaxSendDailyCap.
	DailyCap int
}

// Check reports an unusable schedule (wrapping ErrInvalidArgument).
func (sc SendSchedule) Check() error {
	if len(sc.Delays) == 0 || len(sc.Delays) > MaxSendDelays {
		return invalid("%d send delays, want 1-%d", len(sc.Delays), MaxSendDelays)
	}
	for _, d := range sc.Delays {
		if d < time.Second || d > SendWindow || d%time.Second != 0 {
			return invalid("send delay %s is not whole seconds in range 1s-%s", d, SendWindow)
		}
	}
	if sc.DailyCap < 1 || sc.DailyCap > MaxSendDailyCap {
		return invalid("daily send cap %d out of range 1-%d", sc.DailyCap, MaxSendDailyCap)
	}
	return nil
}

// delay returns the wait after the n-th send (n >= 1).
func (sc SendSchedule) delay(n int64) int64 {
	i := min(n-1, int64(len(sc.Delays)-1))
	return int64(sc.Delays[max(i, 0)] / time.Second)
}

// SendDecision is the outcome of Store.TrySend.
type SendDecision struct {
	// Allowed: the send was recorded and may go out.
	Allowed bool
	// Wait is how long from now until the schedule allows the next send (after this one, when
	// Allowed), in whole seconds; 0 means now.
	Wait time.Duration
}

// SendState is one recipient's send schedule as read (Store.ReadSendSchedule). Decide on it
// with Wait, record a send with Store.RecordSend.
type SendState struct {
	// Exists and Version identify the item read, for the conditional write.
	Exists  bool
	Version int64
	// Count is the number of sends since the schedule started, Last the Unix time of the last
	// one; WindowStart and WindowCount the current 24-hour window and its sends. All zero when
	// the recipient has no schedule (or its item is past its TTL).
	Count, Last, WindowStart, WindowCount int64
}

// next returns the earliest Unix time sc allows a send after now, per st (now or earlier: now).
func (st SendState) next(now int64, sc SendSchedule) int64 {
	window := int64(SendWindow / time.Second)
	next := now
	if st.Count > 0 {
		next = st.Last + sc.delay(st.Count)
	}
	if st.WindowStart+window > now && st.WindowCount >= int64(sc.DailyCap) {
		next = max(next, st.WindowStart+window)
	}
	return next
}

// Wait returns how long after now sc allows the next send, per st (0: now), in whole seconds.
func (st SendState) Wait(now time.Time, sc SendSchedule) time.Duration {
	return time.Duration(max(st.next(now.Unix(), sc)-now.Unix(), 0)) * time.Second
}

// TrySend reads recipientKey's schedule and records a send if it allows one now: see
// ReadSendSchedule and RecordSend.
func (s *Store) TrySend(ctx context.Context, recipientKey string, sc SendSchedule) (SendDecision, error) {
	st, err := s.ReadSendSchedule(ctx, recipientKey)
	if err != nil {
		return SendDecision{}, err
	}
	return s.RecordSend(ctx, recipientKey, sc, st)
}

// ReadSendSchedule reads recipientKey's send schedule (one strongly consistent GetItem).
//
// recipientKey is stored as is, so it must be a keyed hash of the normalised recipient, never
// the address itself.
func (s *Store) ReadSendSchedule(ctx context.Context, recipientKey string) (SendState, error) {
	if err := s.ready(ctx); err != nil {
		return SendState{}, err
	}
	if err := checkID("recipient key", recipientKey); err != nil {
		return SendState{}, err
	}
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(sendPrefix+recipientKey, sendSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return SendState{}, fmt.Errorf("store: send schedule: %w", err)
	}
	var st SendState
	if res.Item == nil {
		return st, nil
	}
	st.Exists = true
	st.Version, _ = getN(res.Item, attrVersion)
	if ttl, ok := getN(res.Item, TTLAttribute); ok && ttl > s.now().Unix() {
		st.Count, _ = getN(res.Item, attrSendCount)
		st.Last, _ = getN(res.Item, attrSendLast)
		st.WindowStart, _ = getN(res.Item, attrSendDay)
		st.WindowCount, _ = getN(res.Item, attrSendDayN)
	}
	return st, nil
}

// RecordSend records a send to recipientKey if the schedule st (as read by ReadSendSchedule)
// allows one now: the recipient's first send (or first after a reset or 24 h without a send)
// at once, each further one only once the delay after the previous send has passed and while
// the current 24-hour window has fewer than DailyCap sends. The record is one conditional
// write on the version read, so concurrent calls cannot both pass; a call that loses the race
// reads the schedule again and decides again. A refusal writes nothing.
func (s *Store) RecordSend(ctx context.Context, recipientKey string, sc SendSchedule, st SendState) (SendDecision, error) {
	if err := s.ready(ctx); err != nil {
		return SendDecision{}, err
	}
	if err := checkID("recipient key", recipientKey); err != nil {
		return SendDecision{}, err
	}
	if err := sc.Check(); err != nil {
		return SendDecision{}, err
	}
	window := int64(SendWindow / time.Second)
	for attempt := range sendAttempts {
		if attempt > 0 {
			var err error
			if st, err = s.ReadSendSchedule(ctx, recipientKey); err != nil {
				return SendDecision{}, err
			}
		}
		now := s.now().Unix()
		if next := st.next(now, sc); now < next {
			return SendDecision{Wait: time.Duration(next-now) * time.Second}, nil
		}
		ns := SendState{Exists: true, Version: st.Version + 1, Count: st.Count + 1, Last: now,
			WindowStart: st.WindowStart, WindowCount: st.WindowCount + 1}
		if st.WindowCount == 0 || st.WindowStart+window <= now {
			ns.WindowStart, ns.WindowCount = now, 1 // a new 24-hour window
		}
		item := key(sendPrefix+recipientKey, sendSK)
		item[attrSendCount] = num(ns.Count)
		item[attrSendLast] = num(ns.Last)
		item[attrSendDay] = num(ns.WindowStart)
		item[attrSendDayN] = num(ns.WindowCount)
		item[attrVersion] = num(ns.Version)
		item[TTLAttribute] = num(now + window)
		in := &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}
		if st.Exists {
			in.ConditionExpression = aws.String("#v = :v")
			in.ExpressionAttributeNames = map[string]string{"#v": attrVersion}
			in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(st.Version)}
		} else {
			in.ConditionExpression = aws.String("attribute_not_exists(#pk)")
			in.ExpressionAttributeNames = map[string]string{"#pk": PartitionKey}
		}
		if _, err := s.db.PutItem(ctx, in); err != nil {
			if isConditionFailed(err) {
				continue // another send or a reset came first: read and decide again
			}
			return SendDecision{}, fmt.Errorf("store: send schedule: %w", err)
		}
		return SendDecision{Allowed: true, Wait: time.Duration(ns.next(now, sc)-now) * time.Second}, nil
	}
	return SendDecision{}, errors.New("store: send schedule: the schedule kept changing, giving up")
}

// ResetSends starts the send schedules of recipientKeys (at most 100) afresh, so that the next
// send to each is allowed at once (for example after the user signed in): one conditional
// UpdateItem per key, run concurrently, that zeroes the counts, raises the version (a send
// decided on an earlier read then reads again) and expires the item now. Keys without a
// schedule are left alone and are no error.
func (s *Store) ResetSends(ctx context.Context, recipientKeys ...string) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	if len(recipientKeys) > maxLimits {
		return invalid("more than %d recipient keys", maxLimits)
	}
	seen := map[string]bool{}
	var keys []string
	for _, rk := range recipientKeys {
		if err := checkID("recipient key", rk); err != nil {
			return err
		}
		if !seen[rk] {
			seen[rk] = true
			keys = append(keys, rk)
		}
	}
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i, rk := range keys {
		wg.Go(func() {
			_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: aws.String(s.table),
				Key:       key(sendPrefix+rk, sendSK),
				// Only the delays start again; the 24-hour window and its count stay, so that
				// signing in (for example with a device key) cannot lift the daily cap.
				UpdateExpression:    aws.String("SET #n = :zero ADD #v :one"),
				ConditionExpression: aws.String("attribute_exists(#pk)"),
				ExpressionAttributeNames: map[string]string{
					"#n": attrSendCount, "#v": attrVersion, "#pk": PartitionKey,
				},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":zero": num(0), ":one": num(1),
				},
			})
			if err != nil && !isConditionFailed(err) {
				errs[i] = err
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store: reset send schedule: %w", err)
	}
	return nil
}
