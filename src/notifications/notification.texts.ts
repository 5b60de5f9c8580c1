/** Member-facing texts, in the member's language; Chinese unless the member chose English. */

const english = (language: string) => language.toLowerCase().startsWith('en');

/** The expiry nudge (quick options, warnings, pointsExpiring), e.g. 您有300积分将于3天后过期,快来兑换吧! */
export function expiryWarningText(points: number, daysLeft: number, language: string): string {
  if (english(language)) {
    return daysLeft <= 0 ? `${points} points expire today. Redeem them now!` : `${points} points expire in ${daysLeft} day${daysLeft === 1 ? '' : 's'}. Redeem them now!`;
  }
  return daysLeft <= 0 ? `您有${points}积分将于今天过期,快来兑换吧!` : `您有${points}积分将于${daysLeft}天后过期,快来兑换吧!`;
}

export function expiryWarningTitle(language: string): string {
  return english(language) ? 'Points expiring soon' : '积分即将过期';
}
