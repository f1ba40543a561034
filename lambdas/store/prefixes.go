package store

// Partition-key prefixes of the key table, one per kind of item. The CDK construct grants each
// function dynamodb:LeadingKeys on the prefixes it needs ("<prefix>*"), so these are the names it
// must use; every item this package writes starts with one of them.
const (
	PrefixUser      = userPrefix         // device keys, passkeys, their counters and seen set (META), registration challenges
	PrefixPasskeyID = passkeyGuardPrefix // passkey credential-ID guards (unique across users)
	PrefixPKAuth    = pkAuthPrefix       // usernameless passkey sign-in challenges
	PrefixFails     = failsPrefix        // failure windows and attempt slots per account (lockout)
	PrefixRate      = ratePrefix         // fixed-window counters: SMS budget, contact-change sends, notification caps
	PrefixOTP       = otpPrefix          // one-time code records per sign-in
	PrefixSend      = sendPrefix         // per-recipient growing send delays and daily cap
	PrefixContact   = contactPrefix      // pending email or phone changes
	PrefixMagic     = magicPrefix        // the outstanding magic link per user
	PrefixNotify    = "NOTIFY#"          // notification de-duplication (package notify)
)

// Prefixes lists every partition-key prefix above.
var Prefixes = []string{
	PrefixUser, PrefixPasskeyID, PrefixPKAuth, PrefixFails, PrefixRate, PrefixOTP, PrefixSend,
	PrefixContact, PrefixMagic, PrefixNotify,
}
