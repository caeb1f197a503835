"""The DSA's statement-of-reasons vocabulary (Regulation (EU) 2022/2065 Art 17; the Commission's Transparency
Database API), which a platform may give with its answer to a referral: what it restricted, and on which ground.
Kept as the Transparency Database spells it, so a platform can send the values it reports there unchanged."""

DECISIONS = (
    "DECISION_VISIBILITY_CONTENT_REMOVED", "DECISION_VISIBILITY_CONTENT_DISABLED",
    "DECISION_VISIBILITY_CONTENT_DEMOTED", "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED", "DECISION_VISIBILITY_CONTENT_LABELLED",
    "DECISION_VISIBILITY_OTHER", "DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED",
)
GROUNDS = ("DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT")
