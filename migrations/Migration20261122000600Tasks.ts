import { Migration } from '@mikro-orm/migrations';

/** Tasks and gamification: tasks and completions, check-ins, challenges and progress, referrals. */
export class Migration20261122000600Tasks extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "challenge" ("id" uuid not null, "code" text not null, "name" text not null, "description" text not null, "metric" text check ("metric" in ('SPEND', 'ORDERS', 'CHECK_INS', 'TASKS')) not null, "target" numeric(16,2) not null, "reward_points" int not null, "starts_at" timestamptz not null, "ends_at" timestamptz not null, "updated_at" timestamptz not null, constraint "challenge_pkey" primary key ("id"), constraint challenge_values_check check (target > 0 and reward_points > 0 and ends_at > starts_at));`,
    );
    this.addSql(`alter table "challenge" add constraint "challenge_code_unique" unique ("code");`);
    this.addSql(
      `create table "check_in" ("member_id" uuid not null, "day" text not null, "streak" int not null, "points" int not null, "entry_id" bigint not null, "created_at" timestamptz not null, constraint "check_in_pkey" primary key ("member_id", "day"));`,
    );
    this.addSql(
      `create table "challenge_progress" ("challenge_id" uuid not null, "member_id" uuid not null, "current" numeric(16,2) not null, "completed_at" timestamptz null, "entry_id" bigint null, constraint "challenge_progress_pkey" primary key ("challenge_id", "member_id"));`,
    );
    this.addSql(
      `create table "referral" ("invitee_id" uuid not null, "inviter_id" uuid not null, "inviter_points" int not null, "invitee_points" int not null, "created_at" timestamptz not null, constraint "referral_pkey" primary key ("invitee_id"));`,
    );
    this.addSql(`create index "referral_inviter_idx" on "referral" ("inviter_id", "created_at");`);
    this.addSql(
      `create table "task" ("id" uuid not null, "code" text not null, "name" text not null, "description" text not null, "points" int not null, "frequency" text check ("frequency" in ('DAILY', 'WEEKLY', 'ONCE')) not null, "self_claimable" boolean not null, "active" boolean not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "task_pkey" primary key ("id"), constraint task_points_check check (points > 0));`,
    );
    this.addSql(`alter table "task" add constraint "task_code_unique" unique ("code");`);
    this.addSql(
      `create table "task_completion" ("id" bigserial primary key, "member_id" uuid not null, "task_id" uuid not null, "period_key" text not null, "reference" text null, "entry_id" bigint not null, "completed_at" timestamptz not null);`,
    );
    this.addSql(`alter table "task_completion" add constraint "task_completion_reference_unique" unique ("task_id", "reference");`);
    this.addSql(`alter table "task_completion" add constraint "task_completion_period_unique" unique ("member_id", "task_id", "period_key");`);
    this.addSql(`alter table "check_in" add constraint "check_in_member_id_foreign" foreign key ("member_id") references "member" ("id") on update restrict on delete restrict;`);
    this.addSql(`alter table "check_in" add constraint "check_in_entry_id_foreign" foreign key ("entry_id") references "ledger_entry" ("id") on update restrict on delete restrict;`);
    this.addSql(
      `alter table "challenge_progress" add constraint "challenge_progress_challenge_id_foreign" foreign key ("challenge_id") references "challenge" ("id") on update restrict on delete restrict;`,
    );
    this.addSql(`alter table "challenge_progress" add constraint "challenge_progress_member_id_foreign" foreign key ("member_id") references "member" ("id") on update restrict on delete restrict;`);
    this.addSql(
      `alter table "challenge_progress" add constraint "challenge_progress_entry_id_foreign" foreign key ("entry_id") references "ledger_entry" ("id") on update restrict on delete restrict;`,
    );
    this.addSql(`alter table "referral" add constraint "referral_invitee_id_foreign" foreign key ("invitee_id") references "member" ("id") on update restrict on delete restrict;`);
    this.addSql(`alter table "referral" add constraint "referral_inviter_id_foreign" foreign key ("inviter_id") references "member" ("id") on update restrict on delete restrict;`);
    this.addSql(`alter table "task_completion" add constraint "task_completion_member_id_foreign" foreign key ("member_id") references "member" ("id") on update restrict on delete restrict;`);
    this.addSql(`alter table "task_completion" add constraint "task_completion_task_id_foreign" foreign key ("task_id") references "task" ("id") on update restrict on delete restrict;`);
    this.addSql(`alter table "task_completion" add constraint "task_completion_entry_id_foreign" foreign key ("entry_id") references "ledger_entry" ("id") on update restrict on delete restrict;`);
    this.addSql(`alter table "program_settings" add column "referral_inviter_points" int not null default 100, add column "referral_invitee_points" int not null default 50;`);
  }
}
