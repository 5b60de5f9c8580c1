/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "query AdminDashboard($first: Int = 10) {\n  programStats {\n    ...ProgramFigures\n  }\n  leaderboard(period: ALL_TIME, first: $first) {\n    totalMembers\n    entries {\n      rank\n      score\n      member {\n        id\n        nickname\n      }\n    }\n  }\n}\n\nfragment ProgramFigures on ProgramStats {\n  at\n  members\n  activeMembers30d\n  outstandingPoints\n  pointsIssued30d\n  pointsRedeemed30d\n  pointsExpired30d\n  redemptionRate\n  expiryRate\n  redemptions24h\n}": typeof types.AdminDashboardDocument,
    "subscription BalanceChanged {\n  balanceChanged {\n    memberId\n    balance\n    delta\n    at\n    entry {\n      id\n      type\n      reference\n      source\n      description\n    }\n  }\n}": typeof types.BalanceChangedDocument,
    "query CatalogPage($first: Int = 20, $after: String, $filter: CatalogFilter) {\n  catalog(first: $first, after: $after, filter: $filter) {\n    edges {\n      node {\n        id\n        sku\n        name\n        category\n        type\n        pointsPrice\n        cashPrice\n        stock\n        imageUrl\n        redeemable\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}": typeof types.CatalogPageDocument,
    "mutation CheckIn {\n  checkIn {\n    pointsAwarded\n    streak\n    balance\n  }\n}": typeof types.CheckInDocument,
    "query CheckInStatus {\n  checkInStatus {\n    checkedInToday\n    streak\n    nextReward\n    monthDays\n  }\n}": typeof types.CheckInStatusDocument,
    "mutation ClaimTask($code: String!) {\n  claimTask(code: $code) {\n    pointsAwarded\n    balance\n    task {\n      code\n    }\n  }\n}": typeof types.ClaimTaskDocument,
    "query Home($withinDays: Int = 30) {\n  me {\n    id\n    nickname\n    balance\n    lifetimeEarned\n    tier {\n      level\n      name\n      multiplier\n    }\n    nextTier {\n      spendNeeded\n      progress\n      tier {\n        level\n        name\n      }\n    }\n    expiringPoints(withinDays: $withinDays) {\n      points\n      earliestExpiry\n      daysUntilEarliest\n    }\n  }\n}": typeof types.HomeDocument,
    "query Leaderboard($period: LeaderboardPeriod = ALL_TIME, $first: Int = 10) {\n  leaderboard(period: $period, first: $first) {\n    period\n    totalMembers\n    updatedAt\n    entries {\n      rank\n      score\n      member {\n        id\n        nickname\n      }\n    }\n  }\n  myRank(period: $period) {\n    rank\n    score\n    topPercent\n    pointsToNextRank\n  }\n}": typeof types.LeaderboardDocument,
    "subscription LeaderboardChanged($period: LeaderboardPeriod = ALL_TIME, $first: Int = 10) {\n  leaderboardChanged(period: $period, first: $first) {\n    period\n    totalMembers\n    updatedAt\n    entries {\n      rank\n      score\n      member {\n        id\n        nickname\n      }\n    }\n  }\n}": typeof types.LeaderboardChangedDocument,
    "mutation MarkNotificationsRead($ids: [ID!]!) {\n  markNotificationsRead(ids: $ids)\n}": typeof types.MarkNotificationsReadDocument,
    "query Notifications($first: Int = 20, $after: String, $unreadOnly: Boolean = false) {\n  notifications(first: $first, after: $after, unreadOnly: $unreadOnly) {\n    edges {\n      node {\n        id\n        kind\n        title\n        body\n        data\n        readAt\n        createdAt\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}": typeof types.NotificationsDocument,
    "subscription PointsExpiring {\n  pointsExpiring {\n    memberId\n    points\n    expiresAt\n    daysLeft\n    message\n  }\n}": typeof types.PointsExpiringDocument,
    "subscription ProgramStatsUpdated {\n  programStatsUpdated {\n    at\n    members\n    activeMembers30d\n    outstandingPoints\n    pointsIssued30d\n    pointsRedeemed30d\n    pointsExpired30d\n    redemptionRate\n    expiryRate\n    redemptions24h\n  }\n}": typeof types.ProgramStatsUpdatedDocument,
    "query QuickRedeem($first: Int = 3) {\n  quickRedeemOptions(first: $first) {\n    balance\n    expiryWarning\n    options {\n      canRedeem\n      remainingAfter\n      cashDue\n      item {\n        id\n        name\n        pointsPrice\n        stock\n      }\n    }\n  }\n}": typeof types.QuickRedeemDocument,
    "mutation Redeem($input: RedeemInput!) {\n  redeem(input: $input) {\n    remainingPoints\n    redemption {\n      id\n      status\n      pointsSpent\n      quantity\n      cashDue\n      coupons {\n        code\n        status\n        expiresAt\n      }\n    }\n  }\n}": typeof types.RedeemDocument,
    "query TaskWall {\n  tasks {\n    completedThisPeriod\n    completions\n    nextResetAt\n    task {\n      code\n      name\n      description\n      points\n      frequency\n      selfClaimable\n    }\n  }\n}": typeof types.TaskWallDocument,
    "mutation ConfirmRedemptionPayment($id: ID!, $paymentReference: String!, $amount: Decimal!) {\n  confirmRedemptionPayment(\n    id: $id\n    paymentReference: $paymentReference\n    amount: $amount\n  ) {\n    id\n    status\n    cashDue\n    paymentReference\n    paymentDueBy\n  }\n}": typeof types.ConfirmRedemptionPaymentDocument,
    "query MemberByExternalId($externalId: String!) {\n  memberByExternalId(externalId: $externalId) {\n    id\n    nickname\n    balance\n    tier {\n      level\n      name\n    }\n  }\n}": typeof types.MemberByExternalIdDocument,
    "query MemberLedger($memberId: ID!, $first: Int = 20, $after: String) {\n  member(id: $memberId) {\n    id\n    balance\n    ledger(first: $first, after: $after) {\n      edges {\n        node {\n          id\n          type\n          status\n          delta\n          balanceAfter\n          reference\n          source\n          description\n          expiresAt\n          createdAt\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n}": typeof types.MemberLedgerDocument,
    "mutation PostPurchase($input: EarnPointsInput!) {\n  earnPoints(input: $input) {\n    points\n    status\n    duplicate\n    entry {\n      id\n      createdAt\n    }\n    member {\n      id\n      balance\n    }\n  }\n}": typeof types.PostPurchaseDocument,
    "mutation RecordTaskCompletion($memberId: ID!, $code: String!, $reference: String!) {\n  recordTaskCompletion(memberId: $memberId, code: $code, reference: $reference) {\n    pointsAwarded\n    balance\n    task {\n      code\n      name\n    }\n  }\n}": typeof types.RecordTaskCompletionDocument,
    "mutation RegisterMember($input: RegisterMemberInput!) {\n  registerMember(input: $input) {\n    id\n    externalId\n    nickname\n    mobile\n    inviteCode\n    balance\n    tier {\n      level\n      name\n    }\n  }\n}": typeof types.RegisterMemberDocument,
    "mutation ReversePurchase($input: ReverseEarnInput!) {\n  reverseEarn(input: $input) {\n    pointsReversed\n    shortfall\n    entry {\n      id\n      createdAt\n    }\n    member {\n      id\n      balance\n    }\n  }\n}": typeof types.ReversePurchaseDocument,
    "mutation UseCoupon($code: String!) {\n  useCoupon(code: $code) {\n    code\n    status\n    value\n    expiresAt\n  }\n}": typeof types.UseCouponDocument,
};
const documents: Documents = {
    "query AdminDashboard($first: Int = 10) {\n  programStats {\n    ...ProgramFigures\n  }\n  leaderboard(period: ALL_TIME, first: $first) {\n    totalMembers\n    entries {\n      rank\n      score\n      member {\n        id\n        nickname\n      }\n    }\n  }\n}\n\nfragment ProgramFigures on ProgramStats {\n  at\n  members\n  activeMembers30d\n  outstandingPoints\n  pointsIssued30d\n  pointsRedeemed30d\n  pointsExpired30d\n  redemptionRate\n  expiryRate\n  redemptions24h\n}": types.AdminDashboardDocument,
    "subscription BalanceChanged {\n  balanceChanged {\n    memberId\n    balance\n    delta\n    at\n    entry {\n      id\n      type\n      reference\n      source\n      description\n    }\n  }\n}": types.BalanceChangedDocument,
    "query CatalogPage($first: Int = 20, $after: String, $filter: CatalogFilter) {\n  catalog(first: $first, after: $after, filter: $filter) {\n    edges {\n      node {\n        id\n        sku\n        name\n        category\n        type\n        pointsPrice\n        cashPrice\n        stock\n        imageUrl\n        redeemable\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}": types.CatalogPageDocument,
    "mutation CheckIn {\n  checkIn {\n    pointsAwarded\n    streak\n    balance\n  }\n}": types.CheckInDocument,
    "query CheckInStatus {\n  checkInStatus {\n    checkedInToday\n    streak\n    nextReward\n    monthDays\n  }\n}": types.CheckInStatusDocument,
    "mutation ClaimTask($code: String!) {\n  claimTask(code: $code) {\n    pointsAwarded\n    balance\n    task {\n      code\n    }\n  }\n}": types.ClaimTaskDocument,
    "query Home($withinDays: Int = 30) {\n  me {\n    id\n    nickname\n    balance\n    lifetimeEarned\n    tier {\n      level\n      name\n      multiplier\n    }\n    nextTier {\n      spendNeeded\n      progress\n      tier {\n        level\n        name\n      }\n    }\n    expiringPoints(withinDays: $withinDays) {\n      points\n      earliestExpiry\n      daysUntilEarliest\n    }\n  }\n}": types.HomeDocument,
    "query Leaderboard($period: LeaderboardPeriod = ALL_TIME, $first: Int = 10) {\n  leaderboard(period: $period, first: $first) {\n    period\n    totalMembers\n    updatedAt\n    entries {\n      rank\n      score\n      member {\n        id\n        nickname\n      }\n    }\n  }\n  myRank(period: $period) {\n    rank\n    score\n    topPercent\n    pointsToNextRank\n  }\n}": types.LeaderboardDocument,
    "subscription LeaderboardChanged($period: LeaderboardPeriod = ALL_TIME, $first: Int = 10) {\n  leaderboardChanged(period: $period, first: $first) {\n    period\n    totalMembers\n    updatedAt\n    entries {\n      rank\n      score\n      member {\n        id\n        nickname\n      }\n    }\n  }\n}": types.LeaderboardChangedDocument,
    "mutation MarkNotificationsRead($ids: [ID!]!) {\n  markNotificationsRead(ids: $ids)\n}": types.MarkNotificationsReadDocument,
    "query Notifications($first: Int = 20, $after: String, $unreadOnly: Boolean = false) {\n  notifications(first: $first, after: $after, unreadOnly: $unreadOnly) {\n    edges {\n      node {\n        id\n        kind\n        title\n        body\n        data\n        readAt\n        createdAt\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}": types.NotificationsDocument,
    "subscription PointsExpiring {\n  pointsExpiring {\n    memberId\n    points\n    expiresAt\n    daysLeft\n    message\n  }\n}": types.PointsExpiringDocument,
    "subscription ProgramStatsUpdated {\n  programStatsUpdated {\n    at\n    members\n    activeMembers30d\n    outstandingPoints\n    pointsIssued30d\n    pointsRedeemed30d\n    pointsExpired30d\n    redemptionRate\n    expiryRate\n    redemptions24h\n  }\n}": types.ProgramStatsUpdatedDocument,
    "query QuickRedeem($first: Int = 3) {\n  quickRedeemOptions(first: $first) {\n    balance\n    expiryWarning\n    options {\n      canRedeem\n      remainingAfter\n      cashDue\n      item {\n        id\n        name\n        pointsPrice\n        stock\n      }\n    }\n  }\n}": types.QuickRedeemDocument,
    "mutation Redeem($input: RedeemInput!) {\n  redeem(input: $input) {\n    remainingPoints\n    redemption {\n      id\n      status\n      pointsSpent\n      quantity\n      cashDue\n      coupons {\n        code\n        status\n        expiresAt\n      }\n    }\n  }\n}": types.RedeemDocument,
    "query TaskWall {\n  tasks {\n    completedThisPeriod\n    completions\n    nextResetAt\n    task {\n      code\n      name\n      description\n      points\n      frequency\n      selfClaimable\n    }\n  }\n}": types.TaskWallDocument,
    "mutation ConfirmRedemptionPayment($id: ID!, $paymentReference: String!, $amount: Decimal!) {\n  confirmRedemptionPayment(\n    id: $id\n    paymentReference: $paymentReference\n    amount: $amount\n  ) {\n    id\n    status\n    cashDue\n    paymentReference\n    paymentDueBy\n  }\n}": types.ConfirmRedemptionPaymentDocument,
    "query MemberByExternalId($externalId: String!) {\n  memberByExternalId(externalId: $externalId) {\n    id\n    nickname\n    balance\n    tier {\n      level\n      name\n    }\n  }\n}": types.MemberByExternalIdDocument,
    "query MemberLedger($memberId: ID!, $first: Int = 20, $after: String) {\n  member(id: $memberId) {\n    id\n    balance\n    ledger(first: $first, after: $after) {\n      edges {\n        node {\n          id\n          type\n          status\n          delta\n          balanceAfter\n          reference\n          source\n          description\n          expiresAt\n          createdAt\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n}": types.MemberLedgerDocument,
    "mutation PostPurchase($input: EarnPointsInput!) {\n  earnPoints(input: $input) {\n    points\n    status\n    duplicate\n    entry {\n      id\n      createdAt\n    }\n    member {\n      id\n      balance\n    }\n  }\n}": types.PostPurchaseDocument,
    "mutation RecordTaskCompletion($memberId: ID!, $code: String!, $reference: String!) {\n  recordTaskCompletion(memberId: $memberId, code: $code, reference: $reference) {\n    pointsAwarded\n    balance\n    task {\n      code\n      name\n    }\n  }\n}": types.RecordTaskCompletionDocument,
    "mutation RegisterMember($input: RegisterMemberInput!) {\n  registerMember(input: $input) {\n    id\n    externalId\n    nickname\n    mobile\n    inviteCode\n    balance\n    tier {\n      level\n      name\n    }\n  }\n}": types.RegisterMemberDocument,
    "mutation ReversePurchase($input: ReverseEarnInput!) {\n  reverseEarn(input: $input) {\n    pointsReversed\n    shortfall\n    entry {\n      id\n      createdAt\n    }\n    member {\n      id\n      balance\n    }\n  }\n}": types.ReversePurchaseDocument,
    "mutation UseCoupon($code: String!) {\n  useCoupon(code: $code) {\n    code\n    status\n    value\n    expiresAt\n  }\n}": types.UseCouponDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query AdminDashboard($first: Int = 10) {\n  programStats {\n    ...ProgramFigures\n  }\n  leaderboard(period: ALL_TIME, first: $first) {\n    totalMembers\n    entries {\n      rank\n      score\n      member {\n        id\n        nickname\n      }\n    }\n  }\n}\n\nfragment ProgramFigures on ProgramStats {\n  at\n  members\n  activeMembers30d\n  outstandingPoints\n  pointsIssued30d\n  pointsRedeemed30d\n  pointsExpired30d\n  redemptionRate\n  expiryRate\n  redemptions24h\n}"): (typeof documents)["query AdminDashboard($first: Int = 10) {\n  programStats {\n    ...ProgramFigures\n  }\n  leaderboard(period: ALL_TIME, first: $first) {\n    totalMembers\n    entries {\n      rank\n      score\n      member {\n        id\n        nickname\n      }\n    }\n  }\n}\n\nfragment ProgramFigures on ProgramStats {\n  at\n  members\n  activeMembers30d\n  outstandingPoints\n  pointsIssued30d\n  pointsRedeemed30d\n  pointsExpired30d\n  redemptionRate\n  expiryRate\n  redemptions24h\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription BalanceChanged {\n  balanceChanged {\n    memberId\n    balance\n    delta\n    at\n    entry {\n      id\n      type\n      reference\n      source\n      description\n    }\n  }\n}"): (typeof documents)["subscription BalanceChanged {\n  balanceChanged {\n    memberId\n    balance\n    delta\n    at\n    entry {\n      id\n      type\n      reference\n      source\n      description\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query CatalogPage($first: Int = 20, $after: String, $filter: CatalogFilter) {\n  catalog(first: $first, after: $after, filter: $filter) {\n    edges {\n      node {\n        id\n        sku\n        name\n        category\n        type\n        pointsPrice\n        cashPrice\n        stock\n        imageUrl\n        redeemable\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}"): (typeof documents)["query CatalogPage($first: Int = 20, $after: String, $filter: CatalogFilter) {\n  catalog(first: $first, after: $after, filter: $filter) {\n    edges {\n      node {\n        id\n        sku\n        name\n        category\n        type\n        pointsPrice\n        cashPrice\n        stock\n        imageUrl\n        redeemable\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation CheckIn {\n  checkIn {\n    pointsAwarded\n    streak\n    balance\n  }\n}"): (typeof documents)["mutation CheckIn {\n  checkIn {\n    pointsAwarded\n    streak\n    balance\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query CheckInStatus {\n  checkInStatus {\n    checkedInToday\n    streak\n    nextReward\n    monthDays\n  }\n}"): (typeof documents)["query CheckInStatus {\n  checkInStatus {\n    checkedInToday\n    streak\n    nextReward\n    monthDays\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation ClaimTask($code: String!) {\n  claimTask(code: $code) {\n    pointsAwarded\n    balance\n    task {\n      code\n    }\n  }\n}"): (typeof documents)["mutation ClaimTask($code: String!) {\n  claimTask(code: $code) {\n    pointsAwarded\n    balance\n    task {\n      code\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Home($withinDays: Int = 30) {\n  me {\n    id\n    nickname\n    balance\n    lifetimeEarned\n    tier {\n      level\n      name\n      multiplier\n    }\n    nextTier {\n      spendNeeded\n      progress\n      tier {\n        level\n        name\n      }\n    }\n    expiringPoints(withinDays: $withinDays) {\n      points\n      earliestExpiry\n      daysUntilEarliest\n    }\n  }\n}"): (typeof documents)["query Home($withinDays: Int = 30) {\n  me {\n    id\n    nickname\n    balance\n    lifetimeEarned\n    tier {\n      level\n      name\n      multiplier\n    }\n    nextTier {\n      spendNeeded\n      progress\n      tier {\n        level\n        name\n      }\n    }\n    expiringPoints(withinDays: $withinDays) {\n      points\n      earliestExpiry\n      daysUntilEarliest\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Leaderboard($period: LeaderboardPeriod = ALL_TIME, $first: Int = 10) {\n  leaderboard(period: $period, first: $first) {\n    period\n    totalMembers\n    updatedAt\n    entries {\n      rank\n      score\n      member {\n        id\n        nickname\n      }\n    }\n  }\n  myRank(period: $period) {\n    rank\n    score\n    topPercent\n    pointsToNextRank\n  }\n}"): (typeof documents)["query Leaderboard($period: LeaderboardPeriod = ALL_TIME, $first: Int = 10) {\n  leaderboard(period: $period, first: $first) {\n    period\n    totalMembers\n    updatedAt\n    entries {\n      rank\n      score\n      member {\n        id\n        nickname\n      }\n    }\n  }\n  myRank(period: $period) {\n    rank\n    score\n    topPercent\n    pointsToNextRank\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription LeaderboardChanged($period: LeaderboardPeriod = ALL_TIME, $first: Int = 10) {\n  leaderboardChanged(period: $period, first: $first) {\n    period\n    totalMembers\n    updatedAt\n    entries {\n      rank\n      score\n      member {\n        id\n        nickname\n      }\n    }\n  }\n}"): (typeof documents)["subscription LeaderboardChanged($period: LeaderboardPeriod = ALL_TIME, $first: Int = 10) {\n  leaderboardChanged(period: $period, first: $first) {\n    period\n    totalMembers\n    updatedAt\n    entries {\n      rank\n      score\n      member {\n        id\n        nickname\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation MarkNotificationsRead($ids: [ID!]!) {\n  markNotificationsRead(ids: $ids)\n}"): (typeof documents)["mutation MarkNotificationsRead($ids: [ID!]!) {\n  markNotificationsRead(ids: $ids)\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Notifications($first: Int = 20, $after: String, $unreadOnly: Boolean = false) {\n  notifications(first: $first, after: $after, unreadOnly: $unreadOnly) {\n    edges {\n      node {\n        id\n        kind\n        title\n        body\n        data\n        readAt\n        createdAt\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}"): (typeof documents)["query Notifications($first: Int = 20, $after: String, $unreadOnly: Boolean = false) {\n  notifications(first: $first, after: $after, unreadOnly: $unreadOnly) {\n    edges {\n      node {\n        id\n        kind\n        title\n        body\n        data\n        readAt\n        createdAt\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription PointsExpiring {\n  pointsExpiring {\n    memberId\n    points\n    expiresAt\n    daysLeft\n    message\n  }\n}"): (typeof documents)["subscription PointsExpiring {\n  pointsExpiring {\n    memberId\n    points\n    expiresAt\n    daysLeft\n    message\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription ProgramStatsUpdated {\n  programStatsUpdated {\n    at\n    members\n    activeMembers30d\n    outstandingPoints\n    pointsIssued30d\n    pointsRedeemed30d\n    pointsExpired30d\n    redemptionRate\n    expiryRate\n    redemptions24h\n  }\n}"): (typeof documents)["subscription ProgramStatsUpdated {\n  programStatsUpdated {\n    at\n    members\n    activeMembers30d\n    outstandingPoints\n    pointsIssued30d\n    pointsRedeemed30d\n    pointsExpired30d\n    redemptionRate\n    expiryRate\n    redemptions24h\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query QuickRedeem($first: Int = 3) {\n  quickRedeemOptions(first: $first) {\n    balance\n    expiryWarning\n    options {\n      canRedeem\n      remainingAfter\n      cashDue\n      item {\n        id\n        name\n        pointsPrice\n        stock\n      }\n    }\n  }\n}"): (typeof documents)["query QuickRedeem($first: Int = 3) {\n  quickRedeemOptions(first: $first) {\n    balance\n    expiryWarning\n    options {\n      canRedeem\n      remainingAfter\n      cashDue\n      item {\n        id\n        name\n        pointsPrice\n        stock\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation Redeem($input: RedeemInput!) {\n  redeem(input: $input) {\n    remainingPoints\n    redemption {\n      id\n      status\n      pointsSpent\n      quantity\n      cashDue\n      coupons {\n        code\n        status\n        expiresAt\n      }\n    }\n  }\n}"): (typeof documents)["mutation Redeem($input: RedeemInput!) {\n  redeem(input: $input) {\n    remainingPoints\n    redemption {\n      id\n      status\n      pointsSpent\n      quantity\n      cashDue\n      coupons {\n        code\n        status\n        expiresAt\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query TaskWall {\n  tasks {\n    completedThisPeriod\n    completions\n    nextResetAt\n    task {\n      code\n      name\n      description\n      points\n      frequency\n      selfClaimable\n    }\n  }\n}"): (typeof documents)["query TaskWall {\n  tasks {\n    completedThisPeriod\n    completions\n    nextResetAt\n    task {\n      code\n      name\n      description\n      points\n      frequency\n      selfClaimable\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation ConfirmRedemptionPayment($id: ID!, $paymentReference: String!, $amount: Decimal!) {\n  confirmRedemptionPayment(\n    id: $id\n    paymentReference: $paymentReference\n    amount: $amount\n  ) {\n    id\n    status\n    cashDue\n    paymentReference\n    paymentDueBy\n  }\n}"): (typeof documents)["mutation ConfirmRedemptionPayment($id: ID!, $paymentReference: String!, $amount: Decimal!) {\n  confirmRedemptionPayment(\n    id: $id\n    paymentReference: $paymentReference\n    amount: $amount\n  ) {\n    id\n    status\n    cashDue\n    paymentReference\n    paymentDueBy\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query MemberByExternalId($externalId: String!) {\n  memberByExternalId(externalId: $externalId) {\n    id\n    nickname\n    balance\n    tier {\n      level\n      name\n    }\n  }\n}"): (typeof documents)["query MemberByExternalId($externalId: String!) {\n  memberByExternalId(externalId: $externalId) {\n    id\n    nickname\n    balance\n    tier {\n      level\n      name\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query MemberLedger($memberId: ID!, $first: Int = 20, $after: String) {\n  member(id: $memberId) {\n    id\n    balance\n    ledger(first: $first, after: $after) {\n      edges {\n        node {\n          id\n          type\n          status\n          delta\n          balanceAfter\n          reference\n          source\n          description\n          expiresAt\n          createdAt\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n}"): (typeof documents)["query MemberLedger($memberId: ID!, $first: Int = 20, $after: String) {\n  member(id: $memberId) {\n    id\n    balance\n    ledger(first: $first, after: $after) {\n      edges {\n        node {\n          id\n          type\n          status\n          delta\n          balanceAfter\n          reference\n          source\n          description\n          expiresAt\n          createdAt\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation PostPurchase($input: EarnPointsInput!) {\n  earnPoints(input: $input) {\n    points\n    status\n    duplicate\n    entry {\n      id\n      createdAt\n    }\n    member {\n      id\n      balance\n    }\n  }\n}"): (typeof documents)["mutation PostPurchase($input: EarnPointsInput!) {\n  earnPoints(input: $input) {\n    points\n    status\n    duplicate\n    entry {\n      id\n      createdAt\n    }\n    member {\n      id\n      balance\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation RecordTaskCompletion($memberId: ID!, $code: String!, $reference: String!) {\n  recordTaskCompletion(memberId: $memberId, code: $code, reference: $reference) {\n    pointsAwarded\n    balance\n    task {\n      code\n      name\n    }\n  }\n}"): (typeof documents)["mutation RecordTaskCompletion($memberId: ID!, $code: String!, $reference: String!) {\n  recordTaskCompletion(memberId: $memberId, code: $code, reference: $reference) {\n    pointsAwarded\n    balance\n    task {\n      code\n      name\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation RegisterMember($input: RegisterMemberInput!) {\n  registerMember(input: $input) {\n    id\n    externalId\n    nickname\n    mobile\n    inviteCode\n    balance\n    tier {\n      level\n      name\n    }\n  }\n}"): (typeof documents)["mutation RegisterMember($input: RegisterMemberInput!) {\n  registerMember(input: $input) {\n    id\n    externalId\n    nickname\n    mobile\n    inviteCode\n    balance\n    tier {\n      level\n      name\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation ReversePurchase($input: ReverseEarnInput!) {\n  reverseEarn(input: $input) {\n    pointsReversed\n    shortfall\n    entry {\n      id\n      createdAt\n    }\n    member {\n      id\n      balance\n    }\n  }\n}"): (typeof documents)["mutation ReversePurchase($input: ReverseEarnInput!) {\n  reverseEarn(input: $input) {\n    pointsReversed\n    shortfall\n    entry {\n      id\n      createdAt\n    }\n    member {\n      id\n      balance\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation UseCoupon($code: String!) {\n  useCoupon(code: $code) {\n    code\n    status\n    value\n    expiresAt\n  }\n}"): (typeof documents)["mutation UseCoupon($code: String!) {\n  useCoupon(code: $code) {\n    code\n    status\n    value\n    expiresAt\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;