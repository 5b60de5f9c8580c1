import type { ReasonCode } from './recommendation.rules';

/** The reason shown with a recommendation, in the member's language: Chinese unless the member chose English (as notification texts). */
export interface ReasonFacts {
  code: ReasonCode;
  /** The history item that explains it (SIMILAR_TO_HISTORY, POPULAR_WITH_SIMILAR_MEMBERS). */
  anchorName: string | null;
  expiringPoints: number;
  expiringInDays: number | null;
  /** Points still missing (0 when the balance covers it). */
  shortBy: number;
}

export function reasonText(facts: ReasonFacts, language: string): string {
  const en = language.toLowerCase().startsWith('en');
  const anchor = facts.anchorName;
  switch (facts.code) {
    case 'SIMILAR_TO_HISTORY':
      if (anchor) return en ? `Similar to ${anchor}, which you redeemed` : `与您兑换过的「${anchor}」相似`;
      return en ? 'Matches what you usually redeem' : '符合您的兑换偏好';
    case 'POPULAR_WITH_SIMILAR_MEMBERS':
      if (anchor) return en ? `Members who redeemed ${anchor} also redeemed this` : `兑换过「${anchor}」的会员也兑换了它`;
      return en ? 'Popular with members like you' : '与您相似的会员都在兑换';
    case 'USES_EXPIRING_POINTS': {
      const days = facts.expiringInDays ?? 0;
      if (en) return `Uses your ${facts.expiringPoints} points that expire ${days <= 0 ? 'today' : `in ${days} day${days === 1 ? '' : 's'}`}`;
      return `可用掉您${days <= 0 ? '今天' : `${days}天内`}将过期的${facts.expiringPoints}积分`;
    }
    case 'FITS_BALANCE':
      if (facts.shortBy > 0) return en ? `${facts.shortBy} more points and it is yours` : `再攒${facts.shortBy}积分即可兑换`;
      return en ? 'Your points cover it now' : '您的积分现在就够兑换';
    case 'POPULAR':
      return en ? 'Popular this week' : '近7天热门兑换';
  }
}
